"""Alembic environment: runs on the connection handed in by ``lims_api.migrate`` (online only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from lims_api.db import make_engine
from lims_api.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use ``config.attributes['connection']`` if given, else the ``lims.url`` attribute."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes["lims.url"])
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("lims_api migrations run online only (python -m lims_api init-db --db URL)")
run_migrations_online()
