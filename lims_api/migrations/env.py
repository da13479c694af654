"""Alembic environment: runs on the connection handed in by ``lims_api.core.migrate`` (online only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from lims_api.audit import models as audit_models
from lims_api.core.db import make_engine
from lims_api.core.models import Base
from lims_api.evidence import models as evidence_models
from lims_api.followup import models as followup_models
from lims_api.ingest import models as ingest_models
from lims_api.people import models as people_models

TABLE_MODULES = (audit_models, evidence_models, followup_models, ingest_models, people_models)
"""Each domain's tables, imported so that all of them are on ``Base.metadata``."""


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
