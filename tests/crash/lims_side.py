"""The LIMS under test: its database (a fresh PostgreSQL schema, or SQLite) and its restartable process."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kuaijian.audit import verify_path
from kuaijian.demo import Lims, free_port, start_lims_on
from kuaijian.procs import Child, python_module

PG_ENV = "KUAIJIAN_TEST_PG_URL"
FORCE_SQLITE_ENV = "KUAIJIAN_CRASH_SQLITE"
"""Set to 1 to run the crash test on SQLite although PostgreSQL answers."""


@dataclass(frozen=True)
class LimsDatabase:
    """Where the LIMS keeps its data; ``application_name`` marks its PostgreSQL connections."""

    url: str
    admin_url: str | None = None
    application_name: str | None = None

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def terminate_connections(self) -> int:
        """Terminate every connection of the LIMS (what a database restart looks like to it); how many."""
        assert self.admin_url is not None
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND application_name = :name"), {"name": self.application_name})
                return sum(1 for (terminated,) in rows if terminated)
        finally:
            engine.dispose()


@contextmanager
def lims_database(work: Path) -> Iterator[LimsDatabase]:
    """A fresh PostgreSQL schema when ``KUAIJIAN_TEST_PG_URL`` is set (dropped afterwards), else SQLite."""
    base = os.environ.get(PG_ENV)
    if not base or os.environ.get(FORCE_SQLITE_ENV) == "1":
        yield LimsDatabase(f"sqlite:///{(work / 'lims.sqlite3').resolve()}")
        return
    schema = f"kj_crash_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
        yield LimsDatabase(url.render_as_string(hide_password=False), base, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class LimsProcess:
    """The LIMS served on one port and database across stops, kills and restarts."""

    data_dir: Path
    logs: Path
    database: LimsDatabase
    port: int = field(default_factory=free_port)
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    started: list[Child] = field(default_factory=list)
    current: Lims | None = None
    down: bool = True

    def start(self) -> Lims:
        self.current = start_lims_on(self.data_dir, self.logs, port=self.port, db_url=self.database.url,
                                     admin_token=self.admin_token)
        self.started.append(self.current.child)
        self.down = False
        return self.current

    @property
    def lims(self) -> Lims:
        assert self.current is not None, "the LIMS was never started"
        return self.current

    def running(self) -> list[Child]:
        """The LIMS child while it is meant to be up (for liveness checks)."""
        return [] if self.down else [self.lims.child]

    def terminate(self) -> None:
        """SIGTERM and wait (a planned stop)."""
        self.down = True
        self.lims.child.stop()

    def kill(self) -> None:
        """SIGKILL and wait (a crash)."""
        self.down = True
        os.kill(self.lims.child.process.pid, signal.SIGKILL)
        self.lims.child.process.wait()

    def stop_all(self) -> None:
        for child in self.started:
            child.stop()


@dataclass(frozen=True)
class Exported:
    """What the LIMS holds, exported as a bundle and verified offline."""

    envelopes: list[dict[str, Any]]
    report: Any
    """``verify_path``'s report: ``ok``, ``faults``, ``gateways`` (envelopes per gateway)."""


def export_and_verify(database: LimsDatabase, folder: Path) -> Exported:
    """``lims_api export`` of ``database`` into ``folder`` and the offline verification of that bundle."""
    subprocess.run(python_module("lims_api", "export", "--db", database.url, "--out", str(folder)),
                   check=True, capture_output=True)
    lines = (folder / "envelopes.jsonl").read_text("utf-8").splitlines()
    return Exported([json.loads(line) for line in lines], verify_path(folder))
