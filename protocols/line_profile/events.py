"""Events of the line decoder (frozen dataclasses, one module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

LineErrorKind = Literal["bad_checksum", "no_match", "too_long", "bad_field"]
FieldValue = int | float | str | datetime
"""A decoded field: ``int``/``float`` (scaled), ``str``, or a naive ``datetime`` (instrument local time)."""




@dataclass(frozen=True)
class LineReading:
    """One line that matched the profile's pattern and checksum; ``raw`` is its exact bytes incl. terminator."""

    fields: dict[str, FieldValue]
    offset: int
    raw: bytes


@dataclass(frozen=True)
class LineError:
    """Bytes that are not a good line; ``offset`` is the absolute stream position of ``data``."""

    kind: LineErrorKind
    offset: int
    detail: str
    data: bytes


LineEvent = LineReading | LineError
