"""EI-412 frame layouts as data: per frame type, its fields, their syntax and conversion.

A new vendor dialect with the same framing is a new table here, not new parsing code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .events import ChannelMeasured, ControlMeasured, RunEnded, RunStarted

MAX_FRAME_BYTES = 82
"""Longest legal frame, ``$`` through CRLF inclusive."""


def checksum(body: bytes) -> int:
    """XOR of every byte between ``$`` and ``*`` (NMEA 0183 style)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def _local_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _optional(text: str) -> str | None:
    return text or None


def _inhibition(text: str) -> Decimal | None:
    return None if text == "---" else Decimal(text)


def _in_range(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{value} outside {low}..{high}")
        return value

    return convert


@dataclass(frozen=True)
class Field:
    """One comma-separated field: event attribute name, full-match syntax, converter, value when omitted."""

    name: str
    pattern: re.Pattern[str]
    convert: Callable[[str], Any]
    omitted: Any = None


def _field(name: str, pattern: str, convert: Callable[[str], Any] = str, omitted: Any = None) -> Field:
    return Field(name, re.compile(pattern), convert, omitted)


_DELTA_A = r"\d\.\d{4}"
_RUN = _field("run", r"\d{1,6}", _in_range(1, 999_999))


@dataclass(frozen=True)
class Layout:
    """A frame type: the event it becomes, required fields, then optional trailing fields."""

    event: type
    required: tuple[Field, ...]
    optional: tuple[Field, ...] = ()


LAYOUTS: dict[str, Layout] = {
    "H": Layout(
        RunStarted,
        (
            _field("model", r"[A-Z0-9-]{1,12}"),
            _field("serial", r"[A-Z0-9-]{1,12}"),
            _field("firmware", r"[0-9A-Za-z.]{1,8}"),
            _RUN,
            _field("measured_at", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", _local_time),
            _field("operator", r"[0-9A-Z]{0,8}", _optional),
            _field("channels", r"\d{1,2}", _in_range(1, 12)),
        ),
    ),
    "C": Layout(
        ControlMeasured,
        (_field("delta_a", _DELTA_A, Decimal), _field("read_window_s", r"\d{1,3}", _in_range(1, 999))),
    ),
    "R": Layout(
        ChannelMeasured,
        (
            _field("channel", r"\d{1,2}", _in_range(1, 12)),
            _field("control_delta_a", _DELTA_A, Decimal),
            _field("sample_delta_a", _DELTA_A, Decimal),
            _field("inhibition", r"-?\d{1,3}\.\d|---", _inhibition),
            _field("verdict", r"POS|NEG|---"),
        ),
        (_field("sample_code", r"[0-9A-Z-]{0,12}", _optional),),
    ),
    "E": Layout(
        RunEnded,
        (_RUN, _field("channels_sent", r"\d{1,2}", _in_range(0, 12))),
        (_field("resend", r"R", lambda text: True, omitted=False),),
    ),
}
