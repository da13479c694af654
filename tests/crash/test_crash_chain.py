"""Crash test of the whole chain, every part a real process.

Five simulated instruments (enzyme on a pty, GR-100 over Modbus TCP and RTU, CG-8 over
TCP, the ASTM analyzer on a pty) stream >= 2,000 results into the gateway, which is
SIGKILLed at seeded random moments >= 20 times; meanwhile the LIMS is stopped for a
while (the gateway buffers, then drains) and its database is restarted twice. At the
end every simulator reports done and the LIMS holds each result exactly once, in one
contiguous, verifiable chain.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gateway.config import load_config
from kuaijian.demo import GATEWAY_ID, prepare_gateway, stored_count
from kuaijian.procs import Child

from .chaos import GatewayKiller, outbox_counts, poll_until, room_page_on_any_port, wait_until
from .fleet import (
    ASTM_MESSAGES,
    ENZYME_RUNS,
    Fleet,
    astm_delivered,
    compare,
    expected_identities,
    gold_done,
    identity_of,
)
from .lims_side import LimsProcess, export_and_verify

pytestmark = [pytest.mark.crash, pytest.mark.timeout(420)]

KILLS = 24
SEED = int(os.environ.get("KUAIJIAN_CRASH_SEED", "20260525"))
OUTAGE_BACKLOG, OUTAGE_MIN_S = 100, 3.0
"""The LIMS stays down until the gateway buffered this many more envelopes, and at least this long."""
STREAM_TIMEOUT_S = 180.0


def lims_outage(lims: LimsProcess, outbox: Path, killer: GatewayKiller) -> int:
    """Stop the LIMS until the gateway has buffered a backlog, restart it, wait until it drained; the backlog."""
    lims.terminate()
    down_at, pending_before = time.monotonic(), outbox_counts(outbox).pending
    wait_until(lambda: outbox_counts(outbox).pending >= pending_before + OUTAGE_BACKLOG
               and time.monotonic() - down_at >= OUTAGE_MIN_S,
               60, "the gateway to buffer while the LIMS is down", tick=killer.tick, alive=lambda: [killer.gateway])
    backlog = outbox_counts(outbox).pending
    lims.start()
    buffered = outbox_counts(outbox).last_seq
    wait_until(lambda: stored_count(lims.lims) >= buffered, 90, f"the backlog up to seq {buffered} to drain",
               tick=killer.tick, alive=lambda: [killer.gateway, lims.lims.child])
    return backlog


def database_restart(lims: LimsProcess, killer: GatewayKiller) -> str:
    """PostgreSQL: terminate the LIMS's connections; SQLite: SIGKILL and restart the LIMS. Then it must store on."""
    if lims.database.backend == "postgresql":
        terminated = lims.database.terminate_connections()
        assert terminated >= 1, "the LIMS had no database connection to terminate"
        what = f"{terminated} PostgreSQL connection(s) terminated"
    else:
        lims.kill()
        lims.start()
        what = "SQLite LIMS killed and restarted"
    before = stored_count(lims.lims)
    wait_until(lambda: stored_count(lims.lims) >= before + 20, 60, "the LIMS to store again after " + what,
               tick=killer.tick, alive=lambda: [killer.gateway, lims.lims.child])
    return what


def wait_for_simulators(fleet: Fleet, sims: dict[str, Child], logs: Path, alive: list[Child]) -> None:
    """Enzyme exits 0 with every result acked; each gold reader logged the ack of its last result."""
    enzyme = sims["sim-enzyme"]
    wait_until(lambda: enzyme.process.poll() is not None, STREAM_TIMEOUT_S, "the enzyme analyzer to finish",
               alive=lambda: alive)
    assert enzyme.process.returncode == 0, enzyme.log_path.read_text()
    assert f"DONE {ENZYME_RUNS} run(s), 0 result(s) unacked" in enzyme.log_path.read_text()
    gold_logs = [logs / f"{sim.log_name}.log" for sim in fleet.sims if sim.entry["driver"] == "modbus_profile"]
    wait_until(lambda: all(gold_done(path) for path in gold_logs), STREAM_TIMEOUT_S,
               "every gold reader to see its last result acked", alive=lambda: alive)


def test_chain_survives_kills_outage_and_db_restart(tmp_path: Path, logs: Path, lims_process: LimsProcess,
                                                     fleet: Fleet, simulators: dict[str, Child]) -> None:
    started = time.monotonic()
    lims, total = lims_process.lims, fleet.total()
    config = prepare_gateway(tmp_path, lims, fleet.entries())
    room_page_on_any_port(config)
    outbox = load_config(config).gateway.outbox
    killer = GatewayKiller.plan(config, outbox, logs, seed=SEED, kills=KILLS, total=total)
    try:
        killer.start()
        alive = lambda: [killer.gateway, *lims_process.running()]  # noqa: E731

        def kills_reach(count: int) -> None:
            wait_until(lambda: killer.kills >= count, STREAM_TIMEOUT_S, f"{count} gateway kills",
                       tick=killer.tick, alive=alive)

        kills_reach(KILLS // 4)
        backlog = lims_outage(lims_process, outbox, killer)
        kills_reach(KILLS // 2)
        restarts = [database_restart(lims_process, killer)]
        kills_reach(3 * KILLS // 4)
        restarts.append(database_restart(lims_process, killer))
        kills_reach(KILLS)

        wait_for_simulators(fleet, simulators, logs, [killer.gateway, lims_process.lims.child])
        lims = lims_process.lims
        poll_until(lambda: stored_count(lims) >= total, 60, alive=alive)  # short of it: the tally says what is lost
        wait_until(lambda: (box := outbox_counts(outbox)).pending == 0 and stored_count(lims) == box.last_seq,
                   60, "the LIMS to hold every envelope of the gateway", alive=alive)
        simulators["sim-astm"].stop()
        delivered = astm_delivered(simulators["sim-astm"].log_path)
    finally:
        killer.stop()
    counts = outbox_counts(outbox)

    exported = export_and_verify(lims_process.database, tmp_path / "bundle")
    envelopes, report = exported.envelopes, exported.report
    tally = compare(expected_identities(fleet), (identity_of(e["result"]) for e in envelopes))
    duplicated = sum(n - 1 for n in tally.duplicated.values())
    print(f"\ncrash test: {killer.kills} gateway kills survived, {len(envelopes)} results stored of {total}, "
          f"lost {len(tally.lost)}, duplicated {duplicated}, unexpected {len(tally.unexpected)}; "
          f"LIMS outage backlog {backlog}; DB restarts ({lims_process.database.backend}): {'; '.join(restarts)}; "
          f"seed {SEED}; {time.monotonic() - started:.1f} s")

    assert killer.kills >= 20
    assert tally.lost == [], f"{len(tally.lost)} lost, e.g. {tally.lost[:10]}"
    assert tally.duplicated == {}, f"duplicated: {dict(list(tally.duplicated.items())[:10])}"
    assert tally.unexpected == [], f"not produced by any simulator: {tally.unexpected[:10]}"
    assert [e["seq"] for e in envelopes] == list(range(1, total + 1)), "seq not contiguous from 1"
    assert (counts.pending, counts.delivered, counts.last_seq) == (0, total, total), counts
    assert delivered == ASTM_MESSAGES, f"ASTM simulator delivered {delivered} of {ASTM_MESSAGES} messages"
    assert report.ok, report.faults
    assert report.gateways == {GATEWAY_ID: total}
