"""Errors of the ASTM E1381/E1394 codecs, split by whose fault it is (see ``protocols.errors``)."""

from __future__ import annotations

from protocols.errors import LocalProtocolError, RemoteProtocolError


class AstmRemoteError(RemoteProtocolError):
    """The instrument sent bytes or records that break E1381/E1394 or our instrument profile."""


class RecordError(AstmRemoteError):
    """One record of a message is malformed; names the record number (1-based) and the field."""

    def __init__(self, record: int, field: str, reason: str) -> None:
        super().__init__(f"record {record} field {field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason


class LimitsError(AstmRemoteError):
    """The limits table (TOML) is malformed; the message names the item and key."""


class AstmLocalError(LocalProtocolError):
    """Our code called a link state machine in a state that forbids it (a bug)."""
