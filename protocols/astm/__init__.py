"""ASTM E1381 (link) / E1394 (records) for the multi-item quantitative analyzer, sans-I/O.

Bytes from the line go into ``AstmLinkReceiver``; its ``MessageComplete`` text goes into
``parse_message``; each ``ResultEntry`` is judged by ``evaluate`` against the limits table.
Profile: docs/instruments/multi-item-analyzer.md.
"""

from ._fields import Delimiters
from ._frame import MAX_TEXT, build_frame, checksum
from .errors import AstmLocalError, AstmRemoteError, LimitsError, RecordError
from .events import (
    BytesDiscarded,
    ContentionDetected,
    DuplicateFrame,
    EstablishmentRequested,
    Event,
    FrameAccepted,
    FrameAcknowledged,
    FrameRejected,
    FrameRetried,
    LimitName,
    LinkBusy,
    MessageComplete,
    MessageTooLarge,
    TimeoutExpired,
    TransferComplete,
    TransferTerminated,
)
from .limits import DEFAULT_LIMITS_RESOURCE, Evaluation, ItemLimit, evaluate, parse_limits, verdict
from .message import Message, ResultEntry, parse_message, parse_record
from .receiver import MAX_MESSAGE_BYTES, MAX_RECORDS, RECEIVE_TIMEOUT_S, AstmLinkReceiver, ReceiverState
from .records import Comment, Header, Order, OtherRecord, Query, Record, Result, SampleRecord, Terminator
from .sender import MAX_RETRIES, SENDER_TIMEOUTS_S, AstmLinkSender, SenderState, frame_records

__all__ = [
    "DEFAULT_LIMITS_RESOURCE", "MAX_MESSAGE_BYTES", "MAX_RECORDS", "MAX_RETRIES", "MAX_TEXT",
    "RECEIVE_TIMEOUT_S", "SENDER_TIMEOUTS_S", "AstmLinkReceiver", "AstmLinkSender",
    "AstmLocalError", "AstmRemoteError", "BytesDiscarded", "Comment", "ContentionDetected",
    "Delimiters", "DuplicateFrame", "EstablishmentRequested", "Evaluation", "Event",
    "FrameAccepted", "FrameAcknowledged", "FrameRejected", "FrameRetried", "Header", "ItemLimit",
    "LimitName", "LimitsError", "LinkBusy", "Message", "MessageComplete", "MessageTooLarge",
    "Order", "OtherRecord", "Query", "ReceiverState", "Record", "RecordError", "Result",
    "ResultEntry", "SampleRecord", "SenderState", "Terminator", "TimeoutExpired",
    "TransferComplete", "TransferTerminated", "build_frame", "checksum", "evaluate",
    "frame_records", "parse_limits", "parse_message", "parse_record", "verdict",
]
