"""The simulated instruments' wall clock: China Standard Time, as set in a Chinese test room."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA_STANDARD_TIME = timezone(timedelta(hours=8))


def china_local_now() -> datetime:
    """Naive local time in UTC+08:00, as an instrument's own clock shows it."""
    return datetime.now(CHINA_STANDARD_TIME).replace(tzinfo=None)
