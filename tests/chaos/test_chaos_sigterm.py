"""SIGTERM at random moments, start-up included: the gateway exits 0 every time and leaves nothing half-written
(outbox intact and chained, no scratch file); across all the stops every reading reaches the LIMS once."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from kuaijian.demo import start_gateway
from protocols.envelope import GENESIS_PREV, envelope_hash

from ..crash.chaos import wait_until
from .harness import acked_through, final_count, gateway_config, gold_reader, outbox_of, wait_drained

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(420)]

STOPS, RESULTS, SEED = 8, 300, 20261202
_SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def holds_sigterm(pid: int) -> bool:
    """The process blocks or catches SIGTERM (``/proc/PID/status``): from then on a SIGTERM is ours to handle.

    Before that the interpreter is still starting and the default action ends it (nothing is open yet).
    """
    try:
        fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":\t" in line)
    except OSError:
        return False
    return bool((int(fields["SigBlk"], 16) | int(fields["SigCgt"], 16)) & _SIGTERM_BIT)


def check_intact(outbox: Path) -> int:
    """Integrity check, seq 1..n each linked to the one before, no scratch file; returns n."""
    assert not list(outbox.parent.glob(f".{outbox.name}.creating*")), "a half-created outbox was left"
    if not outbox.exists():
        return 0
    db = sqlite3.connect(outbox)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        envelopes = [json.loads(text) for (text,) in db.execute("SELECT envelope FROM envelopes ORDER BY seq")]
    finally:
        db.close()
    prev = GENESIS_PREV
    for seq, envelope in enumerate(envelopes, 1):
        assert (envelope["seq"], envelope["prev"]) == (seq, prev)
        prev = envelope_hash(envelope)
    return len(envelopes)


def test_sigterm_at_any_moment_exits_0_and_leaves_nothing_half_written(tmp_path, logs, lims_process):
    rng = random.Random(SEED)
    reader = gold_reader(logs)
    sim = reader.start(RESULTS, interval_s=0.1)
    config = gateway_config(tmp_path, lims_process, [reader.entry()])
    outbox = outbox_of(config)
    moments = []
    try:
        for _ in range(STOPS):
            gateway = start_gateway(config, logs)
            pid = gateway.process.pid
            wait_until(lambda: holds_sigterm(pid) or gateway.process.poll() is not None, 30,
                       "the gateway to take SIGTERM over")
            delay = rng.choice([0.0, rng.uniform(0.0, 1.0), rng.uniform(3.0, 8.0)])  # start-up, early, running
            time.sleep(delay)  # the random moment itself, not a wait for something
            os.kill(pid, signal.SIGTERM)
            assert gateway.process.wait(30) == 0, gateway.log_path.read_text()[-3000:]
            moments.append((round(delay, 2), check_intact(outbox)))
        gateway = start_gateway(config, logs)
        try:
            wait_until(lambda: acked_through(sim, RESULTS), 120, "the reader's last result", alive=lambda: [gateway])
            wait_drained(lims_process, outbox, lambda: [gateway])
        finally:
            assert gateway.stop() == 0
    finally:
        sim.stop()
    print(f"\n{STOPS} SIGTERMs (seconds after the gateway held SIGTERM, envelopes then): {moments}")
    assert sum(1 for delay, _ in moments if delay < 1.0) >= 3, "too few stops during start-up"
    assert moments[-1][1] > moments[0][1], "no stop came while results were being stored"
    final_count(lims_process, tmp_path / "bundle", RESULTS)
