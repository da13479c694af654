"""Matched group text → typed field values (pure)."""

from __future__ import annotations

import math
import re
from datetime import datetime

from ._schema import FieldSpec, Profile
from .events import FieldValue


class FieldValueError(ValueError):
    """One group's text does not fit its field spec; the message names the field."""


def convert(name: str, spec: FieldSpec, text: str) -> FieldValue:
    """One field's value: numbers scaled (``round(raw × scale, 9)`` when scale ≠ 1), datetimes naive."""
    if not text.isascii() or not text.isprintable():
        raise FieldValueError(f"field {name!r}: non-printable or non-ASCII characters in {text!r}")
    try:
        if spec.type == "str":
            return text
        if spec.type == "datetime":
            assert spec.format is not None
            return datetime.strptime(text, spec.format)
        number: int | float = int(text) if spec.type == "int" else float(text)
    except ValueError as exc:
        raise FieldValueError(f"field {name!r}: {text!r} is not a valid {spec.type}: {exc}") from exc
    if not math.isfinite(number):
        raise FieldValueError(f"field {name!r}: {text!r} is not a finite number")
    if spec.scale != 1.0:
        return round(number * spec.scale, 9)
    return number


def convert_all(profile: Profile, match: re.Match[str]) -> dict[str, FieldValue]:
    """Every field of a matched line; an optional group that did not take part is left out."""
    values: dict[str, FieldValue] = {}
    for name, spec in profile.fields.items():
        text = match.group(name)
        if text is not None:
            values[name] = convert(name, spec, text)
    return values
