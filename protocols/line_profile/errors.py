"""Errors of the line-profile package: a bad profile file, or a decoder used wrongly."""

from __future__ import annotations

from ..errors import LocalProtocolError
from ..modbus_profile import ProfileError


class LineProfileError(ProfileError):
    """A line profile is invalid; ``source``, ``line``, ``key`` and ``problem`` say where and why."""


class LineDecoderUsageError(LocalProtocolError):
    """``receive_data`` was called after end of stream."""
