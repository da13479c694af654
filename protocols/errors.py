"""Error hierarchy of the protocol codecs.

Two kinds, after h11: ``RemoteProtocolError`` means the peer (an instrument,
a gateway, a bundle on disk) sent bad bytes — log, resynchronise, go on.
``LocalProtocolError`` means our code misused a state machine — a bug.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error raised by ``protocols``."""


class RemoteProtocolError(ProtocolError):
    """The bytes or documents we received are malformed or fail verification."""


class LocalProtocolError(ProtocolError):
    """Our own code called a codec or state machine in a way it forbids."""


class EnvelopeError(RemoteProtocolError):
    """An envelope fails the wire contract; ``code`` names the fault kind."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class WireError(RemoteProtocolError):
    """A topic, heartbeat or answer breaks the gateway-LIMS wire contract (:mod:`protocols.wire`)."""
