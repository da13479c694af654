"""What every chaos scenario shares: simulators and the gateway as real processes on the LIMS under test,
and the final count: results produced at the simulators = stored at the LIMS, none twice, chain verifies.

The process plumbing is the crash test's (tests/crash: ``LimsProcess``, ``wait_until``, ``outbox_counts``,
``export_and_verify``); this module adds small instrument fleets and the count.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from gateway.config import load_config
from kuaijian.demo import GATEWAY_ID, free_port, prepare_gateway, stored_count
from kuaijian.procs import Child, python_module, start

from ..crash.chaos import outbox_counts, wait_until
from ..crash.lims_side import LimsProcess, export_and_verify

GOLD_SERIAL = "GR2026301"
POLL_S, RECONNECT_S = 1.0, 0.2
"""Instrument poll period and first reconnect delay; reconnects back off up to one poll period."""


@dataclass
class GoldReader:
    """A simulated GR-100 on Modbus TCP at a fixed port: stopped and started again as the same reader."""

    logs: Path
    port: int

    def start(self, results: int, *, first_sequence: int = 1, seed: int = 31, interval_s: float = 0.02) -> Child:
        """A new incarnation serving ``results`` readings numbered from ``first_sequence``."""
        argv = python_module("firmware_sim", "gold", "--profile", "gr100", "--tcp", f"127.0.0.1:{self.port}",
                             "--results", str(results), "--interval", str(interval_s), "--seed", str(seed),
                             "--serial", GOLD_SERIAL, "--first-sequence", str(first_sequence))
        return start(f"sim-gold-{first_sequence}", argv, self.logs, ready_prefix="READY")

    def entry(self) -> dict[str, object]:
        """The gateway's ``[[instruments]]`` table for this reader."""
        return {"id": "gr-01", "driver": "modbus_profile", "options": {
            "profile": "gr100", "transport": "tcp", "host": "127.0.0.1", "port": self.port,
            "poll_interval_s": POLL_S, "reconnect_s": RECONNECT_S, "reconnect_max_s": POLL_S}}


def gold_reader(logs: Path) -> GoldReader:
    return GoldReader(logs, free_port())


def acked_through(child: Child, sequence: int) -> bool:
    """The reader logged the ack of result ``sequence``."""
    return f"result {sequence} acknowledged" in child.log_path.read_text("utf-8", errors="replace")


def gateway_config(work: Path, lims: LimsProcess, entries: list[dict[str, object]],
                   edit: Callable[[dict[str, Any]], None] = lambda config: None) -> Path:
    """The demo gateway's config for ``entries``, enrolled at ``lims``; ``edit`` changes the parsed TOML."""
    path = prepare_gateway(work, lims.lims, entries)
    data = tomllib.loads(path.read_text("utf-8"))
    data["room_page"] = {"port": 0, "sign_in": False}
    data["lims"]["retry_max_s"] = 1.0
    edit(data)
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path


def outbox_of(config: Path) -> Path:
    """The outbox file the config names (relative paths resolved as the gateway resolves them)."""
    return load_config(config).gateway.outbox


def drained(lims: LimsProcess, outbox: Path) -> bool:
    """Nothing pending and the LIMS holds every envelope the gateway wrote."""
    counts = outbox_counts(outbox)
    return counts.pending == 0 and counts.last_seq > 0 and stored_count(lims.lims) == counts.last_seq


def wait_drained(lims: LimsProcess, outbox: Path, alive: Callable[[], list[Child]], timeout: float = 60) -> None:
    wait_until(lambda: drained(lims, outbox), timeout, "the LIMS to hold every envelope", alive=alive)


@dataclass(frozen=True)
class Count:
    """The LIMS's holding against what the simulators produced."""

    stored: int
    duplicates: int
    flags: Counter[str]


def final_count(lims: LimsProcess, folder: Path, produced: int) -> Count:
    """Export and verify the LIMS's chain of the gateway; assert produced = stored, no duplicate, chain ok."""
    exported = export_and_verify(lims.database, folder)
    results = [e["result"] for e in exported.envelopes]
    readings = Counter((r["instrument"]["id"], r["channel"], r["raw"]["data"]) for r in results)
    count = Count(stored=len(results), duplicates=sum(n - 1 for n in readings.values()),
                  flags=Counter(flag for r in results for flag in r["qc"]["flags"]))
    print(f"produced {produced}, stored {count.stored}, duplicated {count.duplicates}, flags {dict(count.flags)}")
    assert exported.report.ok, exported.report.faults
    assert count.duplicates == 0, "a reading stored twice"
    assert count.stored == produced, f"{produced} produced, {count.stored} stored"
    assert [e["seq"] for e in exported.envelopes] == list(range(1, produced + 1)), "seq not contiguous from 1"
    assert exported.report.gateways == {GATEWAY_ID: produced}
    return count


def stored_readings(outbox: Path, instrument: str) -> list[dict[str, Any]]:
    """The results of ``instrument`` in the outbox (read-only; empty before the daemon created it)."""
    if not outbox.exists():
        return []
    db = sqlite3.connect(f"{outbox.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT json_extract(envelope, '$.result') FROM envelopes"
                          " WHERE json_extract(envelope, '$.result.instrument.id') = ?", (instrument,)).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()
    return [json.loads(text) for (text,) in rows]
