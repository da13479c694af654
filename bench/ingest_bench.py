"""Ingest benchmark: CPU per accepted envelope of the LIMS (HTTP batches of 100) against the bare loop.

Contenders, measured in turn every round against fresh gateways (``docs/benchmarks.md``):
``reference sqlite``/``reference pg`` (``bench.ingest_reference``), ``lims sqlite``, ``lims pg``,
``lims pg N workers`` (2N client threads, one gateway each), and ``duplicates`` (the batches just
stored, sent again). CPU is the LIMS process tree's (uvicorn and its workers) plus its PostgreSQL
backends' (found by ``application_name``); the reference's process plus its backend.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.envelopes import BASE_RESULT, SITE, Chain
from bench.proctree import snapshot, spent, tree

BATCH = 100
TOKEN = "bench-admin-token"
NDJSON = {"Content-Type": "application/x-ndjson"}
PG_DEFAULT = "postgresql+psycopg://root@127.0.0.1:5432/test"
OPERATOR: str = BASE_RESULT["operator"]


@dataclass
class Row:
    name: str
    reference: str
    envelopes: int
    cpu_s: float
    wall_s: float

    @property
    def us_per_envelope(self) -> float:
        return self.cpu_s / self.envelopes * 1e6

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "reference": self.reference, "envelopes": self.envelopes,
                "cpu_s": round(self.cpu_s, 3), "wall_s": round(self.wall_s, 3),
                "us_per_envelope": round(self.us_per_envelope, 1)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_base_url() -> str | None:
    """The PostgreSQL to benchmark on (KUAIJIAN_BENCH_PG_URL, KUAIJIAN_TEST_PG_URL, else local 5432 if it answers)."""
    url = os.environ.get("KUAIJIAN_BENCH_PG_URL") or os.environ.get("KUAIJIAN_TEST_PG_URL") or PG_DEFAULT
    try:
        import psycopg

        psycopg.connect(_libpq(url), connect_timeout=3).close()
    except Exception:
        return None
    return url


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class Postgres:
    """Schemas made for the run (dropped at the end) and the backends serving an application name."""

    def __init__(self, base: str) -> None:
        import psycopg

        self.base = base
        self.admin = psycopg.connect(_libpq(base), autocommit=True)
        self.schemas: list[str] = []

    def url(self, application: str) -> str:
        schema = f"kj_bench_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options=-csearch_path%3D{schema}&application_name={application}"

    def backends(self, application: str) -> list[int]:
        rows = self.admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application,))
        return [int(pid) for (pid,) in rows.fetchall()]

    def close(self) -> None:
        for schema in self.schemas:
            self.admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.admin.close()


@dataclass
class Lims:
    """A running ``python -m lims_api serve`` and how to find its PostgreSQL backends."""

    process: subprocess.Popen[bytes]
    base: str
    backends: Callable[[], list[int]]

    def pids(self) -> list[int]:
        return tree(self.process.pid) + self.backends()


@contextmanager
def lims_server(work: Path, db_url: str, workers: int, backends: Callable[[], list[int]],
                log: Path) -> Iterator[Lims]:
    port = _free_port()
    env = {**os.environ, "KUAIJIAN_LIMS_ADMIN_TOKEN": TOKEN}
    command = [sys.executable, "-m", "lims_api", "serve", "--db", db_url, "--port", str(port),
               "--data-dir", str(work / "data"), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"LIMS exited at start: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("LIMS did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Lims(process, base, backends)
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``grace_s``."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def enrol(base: str, chain: Chain) -> None:
    """Enrol the chain's gateway at the vector's site, whose operator is an enrolled technician (as in a room)."""
    admin = {"Authorization": f"Bearer {TOKEN}"}
    reply = httpx.post(f"{base}/api/v1/gateways", json=chain.enrol_body(), timeout=30, headers=admin)
    if reply.status_code not in (200, 201):
        raise RuntimeError(f"enrolment failed: {reply.status_code} {reply.text}")
    user = {"username": OPERATOR, "password": "bench-technician-pw", "role": "technician", "site_ids": [SITE["id"]]}
    reply = httpx.post(f"{base}/api/v1/admin/users", json=user, timeout=30, headers=admin)
    if reply.status_code not in (200, 201, 409):
        raise RuntimeError(f"technician enrolment failed: {reply.status_code} {reply.text}")


def _post_streams(base: str, streams: list[list[bytes]], expect: str) -> None:
    """Each stream (one gateway's bodies, in order) is posted by its own thread; every line must be ``expect``."""
    failures: list[str] = []

    def post(bodies: list[bytes]) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for body in bodies:
                reply = http.post("/api/v1/ingest", content=body, headers=NDJSON)
                statuses = {line["status"] for line in reply.json()["results"]} if reply.status_code == 200 else set()
                if reply.status_code != 200 or statuses != {expect}:
                    failures.append(f"{reply.status_code}: {reply.text[:300]}")
                    return

    threads = [threading.Thread(target=post, args=(bodies,)) for bodies in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    if failures:
        raise RuntimeError(f"ingest failed: {failures[0]}")


def measure_lims(lims: Lims, name: str, reference: str, streams: list[list[bytes]], expect: str) -> Row:
    """CPU of the LIMS tree and its backends while the streams are posted."""
    before = snapshot(lims.pids())
    began = time.monotonic()
    _post_streams(lims.base, streams, expect)
    wall = time.monotonic() - began
    cpu = spent(before, snapshot(lims.pids()))
    count = sum(body.count(b"\n") for bodies in streams for body in bodies)
    return Row(name, reference, count, cpu, wall)


def measure_reference(name: str, db_url: str, chain: Chain, lines: list[bytes], work: Path,
                      backends: Callable[[], list[int]]) -> Row:
    lines_file = work / f"ref-{uuid.uuid4().hex[:8]}.jsonl"
    lines_file.write_bytes(b"\n".join(lines) + b"\n")
    process = subprocess.Popen([sys.executable, "-m", "bench.ingest_reference", db_url, chain.public_key,
                                str(lines_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    try:
        if process.stdout.readline().strip() != b"ready":
            raise RuntimeError("reference did not start")
        pids = [process.pid, *backends()]
        before = snapshot(pids)
        began = time.monotonic()
        process.stdin.write(b"go\n")
        process.stdin.flush()
        if process.stdout.readline().strip() != b"done":
            raise RuntimeError("reference failed")
        wall = time.monotonic() - began
        cpu = spent(before, snapshot(pids))
        process.stdin.write(b"quit\n")
        process.stdin.flush()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        lines_file.unlink(missing_ok=True)
    return Row(name, name, len(lines), cpu, wall)
