"""Operator commands: ``--db`` as a path, no silent new databases, ``enrol-gateway``, admin token from a file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api.__main__ import main
from lims_api.audit.models import AuditEntry
from lims_api.core.db import make_engine
from lims_api.core.migrate import init_db
from lims_api.ingest.models import GatewayKey

from .conftest import SigningGateway
from .test_lims_cli import ROOT, _free_port, _wait_healthy


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so a default data dir created by mistake would show."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KUAIJIAN_LIMS_DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture
def db_file(in_tmp: Path) -> Path:
    path = in_tmp / "lims.sqlite3"
    init_db(f"sqlite:///{path}")
    return path


def test_export_from_a_missing_database_creates_nothing(in_tmp, capsys):
    assert main(["export", "--db", str(in_tmp / "nope.sqlite3"), "--out", str(in_tmp / "out")]) == 2
    assert "nope.sqlite3: no such LIMS database file" in capsys.readouterr().err
    assert main(["export", "--out", str(in_tmp / "out")]) == 2  # the default lims-data/lims.sqlite3
    assert "lims-data/lims.sqlite3: no such LIMS database file" in capsys.readouterr().err
    assert sorted(p.name for p in in_tmp.iterdir()) == []


def test_export_refuses_a_file_without_the_schema(in_tmp, capsys):
    sqlite3.connect(in_tmp / "other.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    assert main(["export", "--db", str(in_tmp / "other.sqlite3"), "--out", str(in_tmp / "out")]) == 2
    assert "not a LIMS database (no envelopes table); run init-db first" in capsys.readouterr().err


def test_export_names_an_unreachable_server(in_tmp, capsys):
    url = f"postgresql+psycopg://kj:secret@127.0.0.1:{_free_port()}/lims"
    assert main(["export", "--db", url, "--out", str(in_tmp / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot open database" in err and "secret" not in err and "127.0.0.1" in err


def test_export_and_checkpoint_accept_a_plain_path(db_file, in_tmp, capsys):
    assert main(["export", "--db", "lims.sqlite3", "--out", str(in_tmp / "out")]) == 0
    assert "exported 0 envelope(s)" in capsys.readouterr().out
    assert main(["checkpoint", "--db", str(db_file), "--data-dir", str(in_tmp / "data")]) == 0


def test_enrol_gateway_stores_the_key_once_and_audits_it(db_file, capsys):
    gateway = SigningGateway()
    args = ["enrol-gateway", "--db", str(db_file), "--gateway", gateway.gateway, "--site-id", "yz-market-07",
            "--site-kind", "market", "--site-name", "七星岗农贸市场", gateway.public_key]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"enrolled gateway {gateway.gateway} for site yz-market-07, kid ")
    kid = out.split()[-1]
    assert main([*args, kid]) == 0
    assert "already enrolled:" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{db_file}")
    with Session(engine) as session:
        assert session.scalars(select(GatewayKey.kid)).all() == [kid]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "gateway.enrol")).all()
        assert [(e.actor, e.subject) for e in entries] == [("admin:cli", f"gateway:{gateway.gateway}")]
    engine.dispose()


def test_enrol_gateway_names_bad_input(db_file, capsys):
    gateway = SigningGateway()
    base = ["enrol-gateway", "--db", str(db_file), "--gateway", gateway.gateway, "--site-id", "s1",
            "--site-name", "x"]
    assert main([*base, "--site-kind", "farm", gateway.public_key]) == 2
    assert "site.kind:" in capsys.readouterr().err
    assert main([*base, "--site-kind", "market", "not-a-key"]) == 2
    assert "public_key:" in capsys.readouterr().err
    assert main([*base, "--site-kind", "market", gateway.public_key, "0000000000000000"]) == 2
    assert "kid '0000000000000000' does not belong to this public key" in capsys.readouterr().err
    engine = make_engine(f"sqlite:///{db_file}")
    with Session(engine) as session:
        assert session.scalars(select(GatewayKey)).all() == []  # the refused kid rolled the enrolment back
    engine.dispose()


def test_admin_token_is_refused_on_the_command_line(in_tmp, capsys):
    assert main(["serve", "--admin-token", "s3cret-s3cret-s3cret"]) == 2
    assert "--admin-token-file" in capsys.readouterr().err
    assert not (in_tmp / "lims-data").exists()


def test_admin_token_file_must_be_private(in_tmp, capsys):
    token = in_tmp / "admin-token"
    token.write_text("a-long-enough-admin-token\n")
    token.chmod(0o644)
    assert main(["serve", "--admin-token-file", str(token)]) == 2
    assert f"mode is 0644, readable by group/others; fix it with: chmod 600 {token}" in capsys.readouterr().err


def test_serve_takes_the_admin_token_from_a_file(tmp_path):
    token = tmp_path / "admin-token"
    token.write_text("token-from-a-file-0123\n")
    token.chmod(0o600)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUAIJIAN_LIMS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lims_api", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"),
         "--admin-token-file", str(token)],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        body = SigningGateway().enrol_body()
        assert httpx.post(f"{base}/api/v1/gateways", json=body, headers={"Authorization": "Bearer x"}).status_code == 401
        enrolled = httpx.post(f"{base}/api/v1/gateways", json=body,
                              headers={"Authorization": "Bearer token-from-a-file-0123"})
        assert enrolled.status_code == 201
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_asgi_factory_reads_the_token_file_from_the_environment(tmp_path, monkeypatch):
    from lims_api.asgi import factory

    token = tmp_path / "admin-token"
    token.write_text("token-for-the-workers-42\n")
    token.chmod(0o600)
    init_db(f"sqlite:///{tmp_path / 'lims.sqlite3'}")
    monkeypatch.setenv("KUAIJIAN_LIMS_DATABASE_URL", f"sqlite:///{tmp_path / 'lims.sqlite3'}")
    monkeypatch.setenv("KUAIJIAN_LIMS_ADMIN_TOKEN_FILE", str(token))
    from fastapi.testclient import TestClient

    with TestClient(factory()) as client:
        body = SigningGateway().enrol_body()
        assert client.post("/api/v1/gateways", json=body).status_code == 401
        answer = client.post("/api/v1/gateways", json=body, headers={"Authorization": "Bearer token-for-the-workers-42"})
        assert answer.status_code == 201
