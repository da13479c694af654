"""PostgreSQL under real concurrency: 4 worker processes, 8 client threads, same and overlapping batches.

The workers are started both ways the operations docs name: uvicorn with ``lims_api.asgi:factory``
and ``python -m lims_api serve --workers 4`` (what ``kuaijian lims serve --workers 4`` runs).

Every envelope must be stored exactly once, each gateway's chain intact, every positive with
exactly one case, and the audit chain intact. Also measures the ingest rate (printed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.db import make_engine

from .conftest import ADMIN_TOKEN, SigningGateway, ndjson, pg_schema

pytestmark = pytest.mark.pg
ROOT = Path(__file__).resolve().parents[2]
WORKERS, CLIENTS, PER_GATEWAY, BATCH = 4, 8, 40, 20
RETRIES_503 = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_schema("kj_workers") as url:
        yield url


def _command(how: str, port: int) -> list[str]:
    if how == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "lims_api.asgi:factory", "--factory", "--workers", str(WORKERS),
                "--port", str(port), "--log-level", "warning"]
    return [sys.executable, "-m", "lims_api", "serve", "--workers", str(WORKERS), "--port", str(port)]


@pytest.fixture(params=["uvicorn", "lims serve --workers"])
def server(pg_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    port, log_path = _free_port(), tmp_path / "uvicorn.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KUAIJIAN_LIMS_DATABASE_URL": pg_url,
           "KUAIJIAN_LIMS_ADMIN_TOKEN": ADMIN_TOKEN, "KUAIJIAN_LIMS_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        _command(request.param, port), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log_path.open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # no readiness signal: poll /healthz
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not answer in time"
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        print(f"\n--- server log ---\n{log_path.read_text(errors='replace')[-20000:]}")  # shown on failure


def _post_all(base: str, bodies: list[list[bytes]]) -> tuple[list[dict], float]:
    """Each client thread posts its list of bodies; all start together. Returns line results and seconds.

    A 503 (the database's transient fault, e.g. a deadlock) is retried after its ``Retry-After``, as a
    gateway does, at most ``RETRIES_503`` times per body; any other answer but 200 fails the test.
    """
    start, lock, lines, failures, retried = threading.Barrier(len(bodies)), threading.Lock(), [], [], []

    def post(http: httpx.Client, body: bytes) -> httpx.Response:
        for _ in range(RETRIES_503):
            reply = http.post("/api/v1/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
            if reply.status_code != 503:
                return reply
            retried.append(reply.text)
            time.sleep(float(reply.headers.get("Retry-After", "1")))  # the server's own back-off
        return reply

    def client(own: list[bytes]) -> None:
        try:
            with httpx.Client(base_url=base, timeout=60) as http:
                start.wait(timeout=30)
                for body in own:
                    reply = post(http, body)
                    assert reply.status_code == 200, reply.text
                    with lock:
                        lines.extend(reply.json()["results"])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(own,)) for own in bodies]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    if retried:
        print(f"\n{len(retried)} batch(es) answered 503 and were re-sent: {retried[:3]}")
    return lines, time.perf_counter() - began


def _enrolled(base: str, count: int, prefix: str) -> list[SigningGateway]:
    gateways = [SigningGateway(gateway=f"{prefix}-{i}") for i in range(count)]
    for gw in gateways:
        reply = httpx.post(f"{base}/api/v1/gateways", json=gw.enrol_body(), timeout=30,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert reply.status_code == 201, reply.text
    return gateways


def test_four_workers_store_each_envelope_once_and_keep_every_chain(server: str, pg_url: str) -> None:
    gateways = _enrolled(server, 4, "gw-race")
    chains = {gw.gateway: [gw.next(verdict="positive" if n % 10 == 0 else "negative") for n in range(PER_GATEWAY)]
              for gw in gateways}
    bodies: list[list[bytes]] = []
    for index in range(CLIENTS):  # clients 2k and 2k+1 share a gateway: same batches, and batches shifted by half
        chain = chains[gateways[index // 2].gateway]
        shift = 0 if index % 2 == 0 else BATCH // 2
        bodies.append([ndjson(*chain[i:i + BATCH]) for i in range(0, len(chain), BATCH)]
                      + [ndjson(*chain[max(0, i - shift):i - shift + BATCH]) for i in range(0, len(chain), BATCH)])
    lines, _ = _post_all(server, bodies)
    stored = Counter((r["gateway"], r["seq"]) for r in lines if r["status"] == "stored")
    assert {r["status"] for r in lines} <= {"stored", "duplicate"}, [r for r in lines if r["status"] == "rejected"][:3]
    assert len(stored) == 4 * PER_GATEWAY and set(stored.values()) == {1}
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            rows = session.execute(text("SELECT gateway_id, seq, hash, prev FROM envelopes ORDER BY gateway_id, seq")).all()
            assert len(rows) == 4 * PER_GATEWAY
            for gw in gateways:
                chain = [r for r in rows if r.gateway_id == gw.gateway]
                assert [r.seq for r in chain] == list(range(1, PER_GATEWAY + 1))
                assert all(later.prev == earlier.hash for earlier, later in zip(chain, chain[1:]))
            assert session.scalar(text("SELECT count(*) FROM gaps WHERE closed_at IS NULL")) == 0
            assert session.scalar(text("SELECT count(*) FROM fork_alarms")) == 0
            assert session.scalar(text("SELECT count(*) FROM cases")) == 4 * PER_GATEWAY // 10
            check = audit_log.verify_audit_chain(session)
            assert check.ok and check.entries == 4 + 4 * PER_GATEWAY // 10, check
    finally:
        engine.dispose()


def test_ingest_rate_with_four_workers(server: str) -> None:
    gateways = _enrolled(server, CLIENTS, "gw-rate")
    bodies = []
    for gw in gateways:
        chain = [gw.next(verdict="negative") for _ in range(100)]
        bodies.append([ndjson(*chain[i:i + 50]) for i in range(0, len(chain), 50)])
    lines, seconds = _post_all(server, bodies)
    assert len(lines) == CLIENTS * 100 and {r["status"] for r in lines} == {"stored"}
    print(f"\nPostgreSQL ingest, {WORKERS} uvicorn workers, {CLIENTS} clients: {len(lines)} envelopes in "
          f"{seconds:.2f} s = {len(lines) / seconds:.0f} results/s")
