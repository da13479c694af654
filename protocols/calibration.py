"""Instrument calibration/verification due dates: the rule the gateway and the LIMS share.

An instrument is in date up to and including its due date. A result whose instrument-local test
date is after it is overdue (the gateway flags it); a due date at most ``DUE_SOON_DAYS`` days ahead
is "due soon" (pages warn before it lapses).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

CalibrationState = Literal["overdue", "due_soon", "ok"]
DUE_SOON_DAYS = 30
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_due_date(value: object) -> date:
    """A due date from a ``date`` (not a datetime) or an ISO ``"YYYY-MM-DD"`` string; ValueError says why."""
    if isinstance(value, datetime):
        raise ValueError(f"must be a date without a time of day, got {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError(f"must be a date written YYYY-MM-DD, got {value!r}")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a calendar date ({exc})") from None
    raise ValueError(f"must be a date (YYYY-MM-DD), got {type(value).__name__} {value!r}")


def is_overdue(due: date, tested_on: date) -> bool:
    """True when ``tested_on`` (the instrument's local date) is after the due date."""
    return tested_on > due


def calibration_state(due: date, today: date) -> CalibrationState:
    """``overdue`` after ``due``, ``due_soon`` within ``DUE_SOON_DAYS`` days of it, else ``ok``."""
    if is_overdue(due, today):
        return "overdue"
    return "due_soon" if (due - today).days <= DUE_SOON_DAYS else "ok"
