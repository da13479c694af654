"""The LIMS goes away mid-stream and comes back: the gateway buffers, then the backlog drains; nothing lost."""

from __future__ import annotations

import time

import pytest

from kuaijian.demo import start_gateway, stored_count

from ..crash.chaos import outbox_counts, wait_until
from .harness import acked_through, final_count, gateway_config, gold_reader, outbox_of, wait_drained

# slow: make test already has a LIMS outage in the crash test (tests/crash)
pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(240)]

RESULTS, BACKLOG, OUTAGE_S = 500, 120, 4.0
INTERVAL_S = 0.04
"""The reader makes 25 results a second: the outage leaves a backlog while it keeps producing."""


def test_lims_down_then_back_the_backlog_drains(tmp_path, logs, lims_process):
    reader = gold_reader(logs)
    sim = reader.start(RESULTS, interval_s=INTERVAL_S)
    config = gateway_config(tmp_path, lims_process, [reader.entry()])
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    try:
        lims = lims_process.lims
        wait_until(lambda: stored_count(lims) >= 30, 60, "the first results at the LIMS", alive=lambda: [gateway])
        lims_process.terminate()
        down_at = time.monotonic()
        wait_until(lambda: outbox_counts(outbox).pending >= BACKLOG and time.monotonic() - down_at >= OUTAGE_S,
                   90, f"{BACKLOG} envelopes buffered while the LIMS is down", alive=lambda: [gateway])
        counts = outbox_counts(outbox)
        lims_process.start()
        back_at = time.monotonic()
        wait_until(lambda: stored_count(lims) >= counts.last_seq, 90, f"the backlog up to seq {counts.last_seq}",
                   alive=lambda: [gateway, lims_process.lims.child])
        drain_s = time.monotonic() - back_at
        wait_until(lambda: acked_through(sim, RESULTS), 120, "the reader's last result acked", alive=lambda: [gateway])
        wait_drained(lims_process, outbox, lambda: [gateway, lims_process.lims.child])
    finally:
        gateway.stop()
        sim.stop()
    assert gateway.process.returncode == 0
    print(f"\nLIMS down {back_at - down_at:.1f} s with {counts.pending} envelopes buffered; "
          f"backlog to seq {counts.last_seq} drained in {drain_s:.1f} s after the LIMS answered again "
          f"({counts.pending / drain_s:.0f} envelopes/s, while the reader kept producing)")
    final_count(lims_process, tmp_path / "bundle", RESULTS)
