"""Engine and session construction; the one place that knows about database URLs."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .psycopg_warmup import resolve_dumpers


def make_engine(url: str) -> Engine:
    """Engine for ``url``; SQLite gets foreign keys, WAL and cross-thread use (FastAPI threadpool).

    psycopg gets its dumpers resolved first (see ``psycopg_warmup``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_driver_name() == "psycopg":
            resolve_dumpers()  # before any request thread binds a parameter (psycopg_warmup)
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if parsed.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory; objects stay readable after commit (we answer from them)."""
    return sessionmaker(engine, expire_on_commit=False)
