"""A site's opening hours: ``"06:00-12:00,14:00-20:00"`` ranges in local time; a test outside is flagged."""

from __future__ import annotations

import re
from datetime import datetime, time

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

Hours = list[tuple[time, time]]


def parse_hours(text: str) -> Hours:
    """The ranges of ``text``; ``ValueError`` names the range that is not ``HH:MM-HH:MM`` with start < end."""
    ranges = []
    for part in (p.strip() for p in text.split(",")):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"opening hours range {part!r} is not HH:MM-HH:MM")
        start = time(int(match[1]), int(match[2]))
        end = time.max if match[3] == "24" else time(int(match[3]), int(match[4]))
        if match[3] == "24" and match[4] != "00":
            raise ValueError(f"opening hours range {part!r} ends after 24:00")
        if not start < end:
            raise ValueError(f"opening hours range {part!r} does not start before it ends")
        ranges.append((start, end))
    return ranges


def is_open(hours: Hours, tested_at: datetime) -> bool:
    """True when ``tested_at``'s own local time of day falls in one of the ranges (start included)."""
    moment = tested_at.time().replace(tzinfo=None)
    return any(start <= moment < end or (end == time.max and moment >= start) for start, end in hours)
