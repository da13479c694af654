"""Database arguments of ``python -m lims_api``: ``--db`` as a URL or a path, and existing databases only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lims_api.core.db import make_engine
from lims_api.core.errors import SettingsError


def database_url(value: str) -> str:
    """``--db`` as a SQLAlchemy URL: a URL as given, a plain path as the SQLite file it names."""
    if "://" in value:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise SettingsError(f"--db {value!r}: not a database URL or file path ({exc})") from None
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def open_existing(url: str) -> Engine:
    """Engine on a LIMS database that exists and has the schema; never creates an empty SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise SettingsError(f"{url}: an in-memory database holds nothing to read")
        if not Path(parsed.database).is_file():
            raise SettingsError(f"{parsed.database}: no such LIMS database file (check --db or "
                                   "KUAIJIAN_LIMS_DATABASE_URL; a new one is made only by init-db or serve)")
    engine = make_engine(url)
    try:
        has_schema = inspect(engine).has_table("envelopes")
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SettingsError(f"{parsed.render_as_string(hide_password=True)}: cannot open database: {reason}") from None
    if not has_schema:
        engine.dispose()
        raise SettingsError(f"{parsed.render_as_string(hide_password=True)}: not a LIMS database (no envelopes "
                               "table); run init-db first or check --db")
    return engine

