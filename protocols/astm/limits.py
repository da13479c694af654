"""Limits table (TOML text -> typed table) and the pure verdict on one R record.

Reading the file is the caller's job (no file I/O here); ``DEFAULT_LIMITS_RESOURCE`` names the
packaged table so a driver can load it with ``importlib.resources``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Literal

from .errors import LimitsError
from .records import Result

Verdict = Literal["negative", "positive", "invalid"]
DEFAULT_LIMITS_RESOURCE = ("protocols.astm", "limits.toml")
ERROR_STATUSES = frozenset({"X"})
"""E1394 R.9 status X = test could not be done: the instrument's error flag."""
_KEYS = ("name", "limit", "unit", "food", "standard", "method", "source")


@dataclass(frozen=True)
class ItemLimit:
    """One row of the limits table."""

    code: str
    name: str
    limit: float
    unit: str
    food: str
    standard: str
    method: str
    source: str


@dataclass(frozen=True)
class Evaluation:
    """Our verdict on one result: numeric value (None if absent/unreadable) and why it is invalid."""

    value: float | None
    verdict: Verdict
    flags: tuple[str, ...]


def parse_limits(text: str) -> dict[str, ItemLimit]:
    """Parse a limits table; a missing or mistyped key raises LimitsError naming item and key."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LimitsError(f"limits table is not TOML: {exc}") from None
    items = document.get("items")
    if not isinstance(items, dict) or not items:
        raise LimitsError("limits table needs an [items.<CODE>] table per item")
    return {code: _item(code, row) for code, row in items.items()}


def _item(code: str, row: object) -> ItemLimit:
    if not isinstance(row, dict):
        raise LimitsError(f"items.{code}: must be a table")
    for key in _KEYS:
        if key not in row:
            raise LimitsError(f"items.{code}.{key}: missing")
    limit = row["limit"]
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(limit):
        raise LimitsError(f"items.{code}.limit: must be a finite number, got {limit!r}")
    for key in _KEYS:
        if key != "limit" and not isinstance(row[key], str):
            raise LimitsError(f"items.{code}.{key}: must be a string")
    return ItemLimit(code, row["name"], float(limit), row["unit"], row["food"], row["standard"],
                     row["method"], row["source"])


def verdict(value: float | None, limit: float, instrument_error: bool = False) -> Verdict:
    """value > limit -> positive, else negative; no value or an instrument error -> invalid."""
    if instrument_error or value is None:
        return "invalid"
    return "positive" if value > limit else "negative"


def evaluate(result: Result, item: ItemLimit | None) -> Evaluation:
    """Judge one R record against its table row (None = item not in the table)."""
    flags: list[str] = []
    value = _number(result.value)
    if result.status in ERROR_STATUSES:
        flags.append("instrument_error")
    if not result.value:
        flags.append("value_missing")
    elif value is None:
        flags.append("value_not_numeric")
    if item is None:
        flags.append("unknown_item")
    elif result.units.strip().lower() != item.unit.lower():
        flags.append("unit_mismatch")
    if flags:
        return Evaluation(value, "invalid", tuple(flags))
    assert item is not None
    return Evaluation(value, verdict(value, item.limit), ())


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
