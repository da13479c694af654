"""The ingest's driver-level statements store what the ORM would store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from lims_api.core.db import make_engine
from lims_api.core.driver_sql import bound, fetch, insert_rows, marks, read
from lims_api.evidence.models import ResultFlag
from lims_api.ingest.models import Gateway, Site, StoredEnvelope

AT = datetime(2026, 12, 6, 8, 30, 0, tzinfo=UTC)  # whole seconds: the case where formats differ


def _envelope(seq: int, **changes: Any) -> dict[str, Any]:
    row = dict(gateway_id="gw-1", seq=seq, hash=f"{seq:064x}", prev="0" * 64, kid="k" * 16, raw_text="{}",
               result_id=f"r-{seq}", site_id="s-1", tested_at=AT, tested_offset_minutes=480,
               tested_date=date(2026, 12, 6), verdict="negative", item="甲胺磷", sample_name=None, stall=None,
               instrument_id="i-1", channel="1", value=12.5, unit="%", cutoff=50.0, trace_code=None,
               qc_control="sample", stored_at=AT)
    return {**row, **changes}


def _site_and_gateway(session: Session) -> None:
    session.add(Site(id="s-1", kind="market", name="测试市场"))
    session.flush()  # no relationship between the two models: the site's row first
    session.add(Gateway(id="gw-1", site_id="s-1"))
    session.flush()


COLUMNS = [c.name for c in StoredEnvelope.__table__.columns if c.name != "id"]


def _stored(session: Session, seq: int) -> tuple[Any, ...]:
    """An envelope row exactly as the database holds it (SQLite's text form, no type processing)."""
    query = text(f"SELECT {', '.join(COLUMNS)} FROM envelopes WHERE seq = :seq")
    return tuple(session.execute(query, {"seq": seq}).one())


def test_insert_rows_stores_what_the_orm_stores(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        _site_and_gateway(session)
        session.execute(insert(StoredEnvelope.__table__), [_envelope(1)])
        insert_rows(session, StoredEnvelope.__table__, [_envelope(2), _envelope(3, trace_code="T-3")])
        orm, mine = _stored(session, 1), _stored(session, 2)
        differing = [name for name, a, b in zip(COLUMNS, orm, mine, strict=True)
                     if a != b and name not in {"seq", "hash", "result_id"}]
        assert differing == []
        assert _stored(session, 3)[COLUMNS.index("trace_code")] == "T-3"
        ids = [row[0] for row in session.execute(text("SELECT id FROM envelopes ORDER BY seq"))]
        # a computed default (computed_at's utc_now) must be given, never silently left out
        with pytest.raises(ValueError, match="computed_at has a computed default"):
            insert_rows(session, ResultFlag.__table__, [dict(envelope_id=ids[0], source="lims", code="x", detail=None)])
        session.rollback()
    engine.dispose()


def test_fetch_and_bound_use_the_driver_marks(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        _site_and_gateway(session)
        seen = bound(session, Gateway.__table__.c.last_seen_at, AT)
        assert fetch(session, "UPDATE gateways SET last_seen_at = ? WHERE id = ? RETURNING site_id", (seen, "gw-1")) \
            == [("s-1",)]
        assert session.get(Gateway, "gw-1").last_seen_at == AT  # read back through the ORM's own type
        [(stored,)] = fetch(session, "SELECT last_seen_at FROM gateways WHERE id = ?", ("gw-1",))
        assert read(session, Gateway.__table__.c.last_seen_at, stored) == AT
        rows = fetch(session, f"SELECT id FROM gateways WHERE id IN ({marks(3)})", ("gw-0", "gw-1", "gw-2"))
        assert rows == [("gw-1",)]
        session.rollback()
    engine.dispose()
