"""Live health of a running gateway (instruments, uplink, backlog) and its status file.

The daemon keeps one ``Health``; every ``status_interval_s`` it writes a snapshot atomically to
``<outbox>.status.json`` (temp file + rename), which ``kuaijian gateway status`` reads. The same
snapshot feeds ``/metrics`` and ``/status``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from .outbox import OutboxCounts
from .outbox_file import STATUS_SUFFIX
from .uplink_base import UplinkStats

InstrumentState = Literal["online", "offline", "error"]


def status_path(outbox_path: str | Path) -> Path:
    """Where the daemon writes its status file: next to the outbox."""
    outbox_path = Path(outbox_path)
    return outbox_path.with_name(outbox_path.name + STATUS_SUFFIX)


@dataclass
class InstrumentHealth:
    """One instrument as the daemon sees it.

    ``online``: its driver is running and its link is up (or not yet known to be down);
    ``offline``: its link is down (``last_error`` says why: device absent, no reply, ...), it is
    disabled, or the gateway stopped; ``error``: the driver crashed and waits to be restarted
    (``last_error`` says why) until it runs again.
    """

    id: str
    driver: str
    state: InstrumentState = "offline"
    results: int = 0
    last_result_at: str | None = None
    last_error: str | None = None
    clock_skew_s: float | None = None
    """Latest ``tested_at - received_at`` in seconds (positive: the instrument clock is ahead)."""
    calibration_due: str | None = None
    """``[[instruments]] calibration_due`` as ``YYYY-MM-DD`` (None: not configured)."""
    failed_attempts: int = 0
    """Attempts to reach the instrument since its link went down (0 while it is up)."""


class Health:
    """In-memory health of one gateway; all methods are called from the daemon's event loop."""

    def __init__(self, gateway_id: str, transport: str, uplink: UplinkStats) -> None:
        self.gateway_id = gateway_id
        self.transport = transport
        self.uplink = uplink
        self.instruments: dict[str, InstrumentHealth] = {}
        self.started_at = time.time()
        self.room_page: str | None = None
        """URL of the room page while it is served (None: disabled or cannot listen)."""
        self.outbox_error: str | None = None
        """Why the outbox cannot store results now (disk full, I/O error); None while it stores them."""

    def outbox_failed(self, error: str) -> bool:
        """The outbox refused a result; True when this starts an outage (the caller logs it once)."""
        starts, self.outbox_error = self.outbox_error is None, error
        return starts

    def outbox_recovered(self) -> bool:
        """The outbox stores results again; True when it had been failing."""
        was, self.outbox_error = self.outbox_error is not None, None
        return was

    def add_instrument(self, instrument_id: str, driver: str, *, enabled: bool,
                       calibration_due: date | None = None) -> None:
        due = calibration_due.isoformat() if calibration_due is not None else None
        self.instruments[instrument_id] = InstrumentHealth(instrument_id, driver, "offline", calibration_due=due)
        if not enabled:
            self.instruments[instrument_id].last_error = "disabled in the config"

    def driver_running(self, instrument_id: str) -> None:
        entry = self.instruments[instrument_id]
        entry.state = "online"

    def link_changed(self, instrument_id: str, up: bool, reason: str | None) -> None:
        """The driver's instrument link came up (online) or went down (offline, ``reason`` kept)."""
        entry = self.instruments[instrument_id]
        entry.state, entry.last_error = ("online", None) if up else ("offline", reason)
        entry.failed_attempts = 0 if up else entry.failed_attempts + 1

    def driver_failed(self, instrument_id: str, error: str) -> None:
        entry = self.instruments[instrument_id]
        entry.state, entry.last_error = "error", error

    def result_stored(self, instrument_id: str, received_at: str, skew_s: float) -> None:
        entry = self.instruments[instrument_id]
        entry.results += 1
        entry.last_result_at = received_at
        entry.clock_skew_s = round(skew_s, 3)

    def all_offline(self) -> None:
        for entry in self.instruments.values():
            entry.state = "offline"

    def snapshot(self, backlog: OutboxCounts, now: datetime) -> dict[str, Any]:
        """JSON-ready status: instruments, uplink, backlog."""
        uplink = asdict(self.uplink)
        uplink["transport"] = self.transport
        uplink["last_upload_at"] = _iso(self.uplink.last_upload_at, now)
        return {
            "gateway": self.gateway_id,
            "pid": os.getpid(),
            "written_at": now.isoformat(timespec="milliseconds"),
            "started_at": _iso(self.started_at, now),
            "instruments": [asdict(entry) for entry in self.instruments.values()],
            "uplink": uplink,
            "backlog": asdict(backlog),
            "outbox": {"state": "failing" if self.outbox_error else "ok", "error": self.outbox_error},
            "room_page": self.room_page,
        }


def _iso(unix: float | None, now: datetime) -> str | None:
    return None if unix is None else datetime.fromtimestamp(unix, now.tzinfo).isoformat(timespec="milliseconds")


def write_status_file(path: Path, snapshot: dict[str, Any]) -> None:
    """Replace ``path`` atomically: readers see the old file or the new one, never a partial one."""
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(json.dumps(snapshot, ensure_ascii=False, indent=1), "utf-8")
    os.replace(scratch, path)


def read_status_file(path: Path) -> dict[str, Any] | None:
    """The last snapshot the daemon wrote, or None if there is none (never ran, or unreadable)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
