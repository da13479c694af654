"""Jinja filters of the pages: times in the LIMS's zone, short hashes, durations."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment


def install_filters(env: Environment, timezone: str) -> None:
    """Add ``localtime``, ``localdatetime``, ``short`` and ``seconds`` to ``env``."""
    zone = ZoneInfo(timezone)

    def localtime(moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(zone).strftime("%H:%M")

    def localdatetime(moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(zone).strftime("%m-%d %H:%M:%S")

    def short(text: str | None, length: int = 12) -> str:
        return "—" if not text else text[:length] + ("…" if len(text) > length else "")

    def seconds(value: float | None) -> str:
        return "—" if value is None else f"{value:+.1f} s"

    env.filters.update(localtime=localtime, localdatetime=localdatetime, short=short, seconds=seconds)
