"""Errors of the Modbus profile package: a bad profile file, or bad register data."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ProtocolError, RemoteProtocolError

ProfileProblem = tuple[int | None, str, str]
"""One mistake of a profile file: (line or None, dotted key, why)."""


class ProfileError(ProtocolError):
    """A profile file is invalid; ``source``, ``line`` and ``key`` say where, ``problem`` why.

    ``problems`` lists every mistake found in the file, this first one first; the message has one
    ``source:line: key: problem`` line for each.
    """

    def __init__(self, source: str, line: int | None, key: str, problem: str,
                 others: Sequence[ProfileProblem] = ()) -> None:
        self.problems: list[ProfileProblem] = [(line, key, problem), *others]
        super().__init__("\n".join(_line(source, *found) for found in self.problems))
        self.source = source
        self.line = line
        self.key = key
        self.problem = problem


def _line(source: str, line: int | None, key: str, problem: str) -> str:
    where = f"{source}:{line}" if line is not None else source
    return f"{where}: {key or '<document>'}: {problem}"


class RegisterDataError(RemoteProtocolError):
    """Registers read from an instrument do not fit the profile (wrong count, value out of range)."""
