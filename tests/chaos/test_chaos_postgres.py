"""The LIMS's PostgreSQL (a throw-away cluster of its own) restarted mid-stream, fast and immediate: the LIMS
answers 503 meanwhile, the gateway retries, every reading is stored once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kuaijian.demo import start_gateway, stored_count

from ..crash.chaos import wait_until
from ..crash.lims_side import LimsDatabase, LimsProcess
from ..pg_private import PrivatePg, PrivatePgUnavailable, start_private_pg
from .harness import acked_through, final_count, gateway_config, gold_reader, outbox_of, wait_drained

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.pg, pytest.mark.timeout(300)]

RESULTS = 400


@pytest.fixture
def cluster() -> Iterator[PrivatePg]:
    try:
        pg = start_private_pg()
    except PrivatePgUnavailable as exc:
        pytest.skip(f"no private PostgreSQL cluster: {exc}")
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def lims_on_cluster(tmp_path: Path, logs: Path, cluster: PrivatePg) -> Iterator[LimsProcess]:
    process = LimsProcess(tmp_path, logs, LimsDatabase(cluster.url, cluster.url, "kuaijian-lims"))
    try:
        process.start()
        yield process
    finally:
        process.stop_all()


def test_postgres_restarted_fast_and_immediate_mid_stream(tmp_path, logs, lims_on_cluster, cluster):
    lims = lims_on_cluster
    reader = gold_reader(logs)
    sim = reader.start(RESULTS, interval_s=0.03)
    config = gateway_config(tmp_path, lims, [reader.entry()])
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    restarts = []
    try:
        alive = lambda: [gateway, lims.lims.child]  # noqa: E731
        for mode, before in (("fast", 50), ("immediate", 150)):
            wait_until(lambda: stored_count(lims.lims) >= before, 90, f"{before} results stored", alive=alive)
            cluster.restart(mode)
            held = stored_count(lims.lims)
            wait_until(lambda: stored_count(lims.lims) >= held + 20, 90, f"storing again after -m {mode}",
                       alive=alive)
            restarts.append(f"-m {mode} at {held}")
        wait_until(lambda: acked_through(sim, RESULTS), 120, "the reader's last result", alive=alive)
        wait_drained(lims, outbox, alive)
    finally:
        gateway.stop()
        sim.stop()
    print(f"\nPostgreSQL restarted ({'; '.join(restarts)} results stored)")
    final_count(lims, tmp_path / "bundle", RESULTS)
