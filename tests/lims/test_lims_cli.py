"""The service as a process: migrations match the models, init-db is idempotent, serve answers HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lims_api.__main__ import main
from lims_api.core.db import make_engine
from lims_api.core.models import Base

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
    finally:
        engine.dispose()


def test_init_db_is_idempotent(db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["init-db", "--db", db_url]) == 0
    assert main(["init-db", "--db", db_url]) == 0
    assert "newest schema" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base: str, process: subprocess.Popen[bytes], deadline_s: float = 20.0) -> None:
    """Poll /healthz until it answers (the server has no readiness signal to wait on)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "server exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("server did not answer /healthz in time")


def test_serve_migrates_and_answers_on_a_real_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "KUAIJIAN_LIMS_ADMIN_TOKEN": "from-env", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "lims_api", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        site = {"id": "s1", "kind": "market", "name": "测试市场"}
        body = {"gateway": "gw-1", "site": site, "public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        assert httpx.post(f"{base}/api/v1/gateways", json=body).status_code == 401
        enrolled = httpx.post(f"{base}/api/v1/gateways", json=body, headers={"Authorization": "Bearer from-env"})
        assert enrolled.status_code == 201 and enrolled.json()["kid"] == "21fe31dfa154a261"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "data" / "lims.sqlite3").exists()
