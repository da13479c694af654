"""Errors of the Modbus profile package: a bad profile file, or bad register data."""

from __future__ import annotations

from ..errors import ProtocolError, RemoteProtocolError


class ProfileError(ProtocolError):
    """A profile file is invalid; ``source``, ``line`` and ``key`` say where, ``problem`` why."""

    def __init__(self, source: str, line: int | None, key: str, problem: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key or '<document>'}: {problem}")
        self.source = source
        self.line = line
        self.key = key
        self.problem = problem


class RegisterDataError(RemoteProtocolError):
    """Registers read from an instrument do not fit the profile (wrong count, value out of range)."""
