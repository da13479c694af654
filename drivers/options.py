"""Option pieces the drivers share: the instrument clock's UTC offset, the reconnect backoff, validation."""

from __future__ import annotations

import re
import datetime as dt
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from protocols._validation import Invalid, convert

from .base import DriverConfigError
from .link_watch import Backoff

_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")
Positive = Annotated[float, Meta(gt=0)]
PositiveInt = Annotated[int, Meta(gt=0)]


class UtcOffset(str):
    """``±HH:MM``: a UTC offset of at most 14 hours."""

    @classmethod
    def parse_value(cls, value: object) -> UtcOffset:
        """``value`` if it is such an offset; ValueError otherwise."""
        match = _OFFSET.fullmatch(value) if isinstance(value, str) else None
        if not match or int(match[2]) > 14 or int(match[3]) > 59:
            raise ValueError(f"{value!r} is not a UTC offset like '+08:00'")
        return cls(value)

    @property
    def tzinfo(self) -> dt.timezone:
        """This offset as a fixed timezone."""
        match = _OFFSET.fullmatch(self)
        assert match is not None  # checked by parse_value
        delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
        return dt.timezone(-delta if match[1] == "-" else delta)


class InstrumentClockOptions(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Base of driver option structs: ``timezone`` is the offset of the instrument's local clock."""

    timezone: UtcOffset = UtcOffset("+08:00")
    """UTC offset (``±HH:MM``) of the instrument's clock, which sends local time without a zone."""

    @property
    def tzinfo(self) -> dt.timezone:
        """The instrument clock's fixed offset."""
        return UtcOffset.parse_value(self.timezone).tzinfo


class ReconnectOptions(InstrumentClockOptions, kw_only=True, frozen=True):
    """How a lost link is retried: first after ``reconnect_s``, doubling up to ``reconnect_max_s``."""

    reconnect_s: Positive = 2.0
    """Wait before the first attempt to reopen a lost link."""
    reconnect_max_s: Positive = 30.0
    """Longest wait between attempts while the link stays away."""

    def backoff(self) -> Backoff:
        """A fresh backoff of these waits."""
        return Backoff(self.reconnect_s, self.reconnect_max_s)


Options = TypeVar("Options", bound=InstrumentClockOptions)


def parse_driver_options(kind: type[Options], options: dict[str, Any], driver: str) -> Options:
    """``options`` as ``kind``; the DriverConfigError names ``driver``, the first bad key and why.

    A cross-field check says which key it is about by starting its message with ``"<key>: "``.
    """
    try:
        return convert(options, kind, strict=False)
    except Invalid as exc:
        first = exc.problems[0]
        key, problem = ".".join(str(part) for part in first.loc), first.why
        if not key:
            key, _, problem = problem.partition(": ")
        raise DriverConfigError(f"{driver} option {key!r}: {problem}") from None
