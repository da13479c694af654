"""Error hierarchy of the LIMS service."""

from __future__ import annotations


class LimsError(Exception):
    """Base of every error raised by ``lims_api``."""


class SettingsError(LimsError):
    """A setting or command-line value cannot be used (no such database, unreadable token file...)."""


class EnrolmentError(LimsError):
    """A gateway enrolment conflicts with what is stored (e.g. gateway bound to another site)."""


class BodyTooLarge(LimsError):
    """A request body exceeds ``max_body_bytes``."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"request body exceeds the limit of {limit} bytes (max_body_bytes); send fewer envelopes per request"
        )
        self.limit = limit


class ExportError(LimsError):
    """An audit export cannot be written (bad range, target exists...)."""


class EnvelopeRejected(LimsError):
    """One ingested line fails verification; ``code`` is one of the ingest response codes."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        gateway: str | None = None,
        seq: int | None = None,
        envelope_hash: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.gateway = gateway
        self.seq = seq
        self.envelope_hash = envelope_hash


class WrongSite(EnvelopeRejected):
    """A signed result names a site other than the one its gateway is enrolled for (``wrong_site``)."""

    def __init__(self, message: str, *, claimed: str, enrolled: str, gateway: str, seq: int,
                 envelope_hash: str) -> None:
        super().__init__("wrong_site", message, gateway=gateway, seq=seq, envelope_hash=envelope_hash)
        self.claimed = claimed
        self.enrolled = enrolled


class DirectoryError(LimsError):
    """An admin change to districts, sites, rooms or users conflicts with what is stored."""


class CodedError(LimsError):
    """An error with a stable ``code`` and its ``params``, so a page can say it in the reader's language.

    ``str(error)`` stays the English message the API answers with.
    """

    def __init__(self, message: str, code: str = "other", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class CaseError(CodedError):
    """A case action is not allowed in the case's state (or its inputs contradict the record)."""


class RequestError(CodedError):
    """A public test request cannot be triaged, assigned or closed as asked."""


class CheckpointMismatch(LimsError):
    """A final checkpoint no longer matches the stored envelopes of its day."""


class HeartbeatRejected(LimsError):
    """A gateway heartbeat is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        """``wrong_site`` for a heartbeat naming another site than its gateway's; else ``None``."""
