"""Concurrent ingest of the same chain: each seq stored once, every other answer duplicate or fork."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

from lims_api.core.db import make_sessionmaker
from lims_api.ingest.schemas import LineResult
from lims_api.ingest.service import ingest_ndjson

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

WORKERS = 4


def _race(lims: Lims, bodies: list[bytes]) -> list[list[LineResult]]:
    """Run ``ingest_ndjson`` for each body in its own thread and session, all released together."""
    sessions = make_sessionmaker(lims.engine)
    start = threading.Barrier(len(bodies))
    outcomes: list[list[LineResult]] = [[] for _ in bodies]
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            start.wait(timeout=10)
            with sessions() as session:
                outcomes[index] = ingest_ndjson(session, bodies[index])
        except BaseException as exc:  # surfaced in the asserting thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    return outcomes


def test_same_batch_from_many_senders_stores_each_seq_once(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    body = lims.body(*[gateway.next() for _ in range(5)])
    outcomes = _race(lims, [body] * WORKERS)
    per_seq = Counter((r.seq, r.status) for lines in outcomes for r in lines)
    for seq in range(1, 6):
        assert per_seq[(seq, "stored")] == 1
        assert per_seq[(seq, "duplicate")] == WORKERS - 1
    assert lims.scalar("SELECT count(*) FROM envelopes") == 5
    assert lims.scalar("SELECT count(*) FROM gaps") == 0


def test_competing_envelopes_for_one_seq_store_one_and_alarm_the_rest(
    lims: Lims, gateway: SigningGateway
) -> None:
    lims.enrol(gateway)
    rivals = [gateway.seal_at(1, gateway.prev, sample={"name": f"样品{i}"}) for i in range(WORKERS)]
    outcomes = _race(lims, [lims.body(r) for r in rivals])
    statuses = Counter((lines[0].status, lines[0].code) for lines in outcomes)
    assert statuses == {("stored", None): 1, ("rejected", "fork"): WORKERS - 1}
    assert lims.scalar("SELECT count(*) FROM envelopes") == 1
    assert lims.scalar("SELECT count(*) FROM fork_alarms") == WORKERS - 1
