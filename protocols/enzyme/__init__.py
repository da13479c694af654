"""EI-412 enzyme-inhibition analyzer protocol (docs/instruments/enzyme-inhibition.md), sans-I/O.

``EnzymeDecoder`` turns bytes into frame events, ``RunAssembler`` turns those into
per-channel ``ChannelReading``s, ``judge_reading`` gives the GB/T 5009.199 verdict,
``ack_frame``/``query_frame`` build the host's acknowledgement and query frames.
"""

from protocols.need_data import NEED_DATA

from ._layout import MAX_FRAME_BYTES, checksum
from .assembler import RunAssembler
from .decoder import EnzymeDecoder
from .errors import EnzymeUsageError, ReplayError
from .events import (
    ChannelMeasured,
    ChannelReading,
    ControlMeasured,
    FrameError,
    RunEnded,
    RunError,
    RunStarted,
)
from .host import ack_frame, query_frame
from .replay import reading_from_raw
from .verdict import Judgement, VerdictRules, inhibition_percent, judge, judge_reading

__all__ = [
    "MAX_FRAME_BYTES",
    "reading_from_raw",
    "NEED_DATA",
    "ChannelMeasured",
    "ChannelReading",
    "ControlMeasured",
    "EnzymeDecoder",
    "EnzymeUsageError",
    "FrameError",
    "Judgement",
    "ReplayError",
    "RunAssembler",
    "RunEnded",
    "RunError",
    "RunStarted",
    "VerdictRules",
    "ack_frame",
    "checksum",
    "inhibition_percent",
    "judge",
    "judge_reading",
    "query_frame",
]
