"""A database connection lost in the middle of an ingest answers 503 (retry), stores nothing half-way."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from lims_api.app import create_app
from lims_api.core.settings import LimsSettings

from .conftest import ADMIN_TOKEN, Lims, SigningGateway, ndjson


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


def test_database_refusing_connections_answers_503_not_500(tmp_path, caplog, gateway: SigningGateway):
    with socket.socket() as probe:  # a port nothing listens on: the database "is down"
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = LimsSettings(database_url=f"postgresql+psycopg://root@127.0.0.1:{port}/test?connect_timeout=2",
                            admin_token=ADMIN_TOKEN, data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        reply = client.post("/api/v1/ingest", content=ndjson(gateway.next()),
                            headers={"Content-Type": "application/x-ndjson"})
    assert reply.status_code == 503, reply.text
    assert reply.headers["Retry-After"] == "2"
    logged = [r for r in caplog.records if r.getMessage() == "database unavailable"]
    assert logged and logged[0].path == "/api/v1/ingest" and "refused" in logged[0].error.lower()
