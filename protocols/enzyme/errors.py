"""Errors of the EI-412 codec. Bad instrument bytes are *events*, never exceptions."""

from __future__ import annotations

from protocols.errors import LocalProtocolError, RemoteProtocolError


class EnzymeUsageError(LocalProtocolError):
    """Our code misused the decoder or verdict rules (data after EOF, impossible cutoff)."""


class ReplayError(RemoteProtocolError):
    """Stored raw bytes do not hold exactly one clean header + control + channel triple."""
