"""A database connection lost in the middle of an ingest answers 503 (retry), stores nothing half-way."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text

from .conftest import Lims, SigningGateway


def test_connection_killed_mid_ingest_answers_503_then_the_retry_stores(lims: Lims, gateway: SigningGateway, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a server-side disconnect needs PostgreSQL")
    lims.enrol(gateway)
    envelope = gateway.next()
    app_engine = lims.client.app.state.engine
    killer = create_engine(lims.url.split("?")[0], isolation_level="AUTOCOMMIT")
    armed = {"on": True}

    def kill_own_backend(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if armed["on"] and statement.lstrip().upper().startswith("INSERT"):
            armed["on"] = False
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with killer.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(app_engine, "before_cursor_execute", kill_own_backend)
    try:
        body = lims.body(envelope)
        first = lims.client.post("/api/v1/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert first.status_code == 503, first.text
        assert first.headers["Retry-After"] == "2"
        assert lims.scalar("SELECT count(*) FROM envelopes") == 0
        assert lims.ingest(envelope)[0]["status"] == "stored"
        assert lims.scalar("SELECT count(*) FROM envelopes") == 1
    finally:
        event.remove(app_engine, "before_cursor_execute", kill_own_backend)
        killer.dispose()
