"""Many results with the same raw bytes: exactly the documented replay rows, and a batch's statements do not
grow with the number of repeats already stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from lims_api.ingest.service import store_batch

from .conftest import ndjson
from .test_lims_flags import TECHNICIAN, enzyme, flags

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

GATEWAYS = 3
ROUNDS = 4
BATCH = 5


def test_identical_raw_readings_from_several_gateways_add_the_documented_rows_in_constant_statements(
        lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]):
    rooms = [gateway] + [make_gateway(gateway=f"{gateway.gateway}-{n}") for n in range(1, GATEWAYS)]
    for room in rooms:
        lims.enrol(room)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    order: list[str] = []  # "gateway seq" of every reading, in storing order
    statements: list[int] = []
    samples = iter(range(10_000))

    def listener(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        statements[-1] += 1

    event.listen(lims.engine, "before_cursor_execute", listener)
    try:
        for _ in range(ROUNDS):
            for room in rooms:
                lines = [room.next(**enzyme(delta_t="0.1545", sample={"id": f"S-{next(samples)}", "barcode": None}))
                         for _ in range(BATCH)]
                order += [f"{room.gateway} seq {room.seq - BATCH + 1 + n}" for n in range(BATCH)]
                statements.append(0)
                with Session(lims.engine) as session:
                    results = store_batch(session, ndjson(*lines), None, datetime.now(UTC))
                assert [r.status for r in results.results] == ["stored"] * BATCH
    finally:
        event.remove(lims.engine, "before_cursor_execute", listener)

    # every batch after each gateway's first costs the same statements, however many repeats are stored
    assert len(set(statements[GATEWAYS:])) == 1, statements
    rows = [tuple(r) for r in lims.rows(
        "SELECT e.gateway_id || ' seq ' || e.seq, f.code, f.detail FROM result_flags f"
        " JOIN envelopes e ON e.id = f.envelope_id ORDER BY f.id")]
    first = order[0]
    expected = [(order[1], "replayed_raw", f"same raw bytes as {first}"),
                (first, "replayed_raw", f"same raw bytes as {order[1]}")]
    expected += [(where, "replayed_raw", f"same raw bytes as {first} and {n - 1} more")
                 for n, where in enumerate(order[2:], start=2)]
    assert sorted(rows) == sorted(expected)
    assert len(rows) == GATEWAYS * ROUNDS * BATCH  # one per repeat, one on the first: no more


def replays(lims: Lims, gateway: str, seq: int) -> list[tuple[str, str]]:
    return [(code, detail) for _, code, detail in flags(lims, gateway, seq) if code.startswith("replayed")]


def test_a_stored_first_of_the_same_sample_and_another_item_is_passed_over_for_the_next(
        lims: Lims, gateway: SigningGateway):
    """The first stored result of these bytes is the same sample's other item: the match is the next one."""
    lims.enrol(gateway)
    shared = {"instrument": {"driver": "astm_quantitative"}, "raw": {"transport": "astm", "data": "AkhFTExPAw"}}
    nitrite, formaldehyde = ({"item": item, "kind": "quantitative"} for item in ("亚硝酸盐", "甲醛"))
    lims.ingest(gateway.next(test=nitrite, **shared))
    lims.ingest(gateway.next(test=nitrite, sample={"id": "S-2", "barcode": None}, **shared))
    lims.ingest(gateway.next(test=formaldehyde, **shared))
    where = gateway.gateway
    assert replays(lims, where, 3) == [("replayed_raw", f"same raw bytes as {where} seq 2")]
    assert replays(lims, where, 2) == [("replayed_raw", f"same raw bytes as {where} seq 1"),
                                       ("replayed_raw", f"same raw bytes as {where} seq 3")]
    assert replays(lims, where, 1) == [("replayed_raw", f"same raw bytes as {where} seq 2")]


def test_a_stored_first_of_the_same_values_and_sample_is_passed_over_for_the_next(
        lims: Lims, gateway: SigningGateway):
    """The first stored result of these values claims the same sample: the match is the next one."""
    lims.enrol(gateway)
    lims.ingest(gateway.next(**enzyme(channel=1, delta_t="0.1545")))
    lims.ingest(gateway.next(**enzyme(channel=1, delta_t="0.1545", sample={"id": "S-9", "barcode": None})))
    lims.ingest(gateway.next(**enzyme(channel=2, delta_t="0.1545")))
    where = gateway.gateway
    assert replays(lims, where, 3) == [("replayed_measurement", f"same raw values as {where} seq 2")]
    assert replays(lims, where, 2) == [("replayed_raw", f"same raw bytes as {where} seq 1"),
                                       ("replayed_measurement", f"same raw values as {where} seq 3")]


def test_the_tallies_search_the_fingerprint_indexes_instead_of_scanning_them(tmp_path: Any) -> None:
    """SQLite scans a whole index for a row-value IN alone; each tally also filters on its first column with a
    plain IN, so the statement's cost follows the batch, not the fingerprints already stored."""
    import sqlite3

    from lims_api import init_db
    from lims_api.evidence.earlier import Key, _tallies

    path = tmp_path / "plan.sqlite3"
    init_db(f"sqlite:///{path}")
    keys = [Key(f"{n:064x}", "s" * 64, "item", f"{n + 9:064x}") for n in range(3)]
    parts, values = _tallies(keys)
    with sqlite3.connect(path) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {' UNION ALL '.join(parts)}", values)]
    on_fingerprints = [step for step in plan if "result_fingerprints" in step]
    assert len(on_fingerprints) == 5 and all(step.startswith("SEARCH") for step in on_fingerprints), plan
