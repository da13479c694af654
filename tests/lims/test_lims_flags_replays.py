"""Many results with the same raw bytes: exactly the documented replay rows, and a batch's statements do not
grow with the number of repeats already stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from lims_api.ingest.service import store_batch

from .conftest import ndjson
from .test_lims_flags import TECHNICIAN, enzyme

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
