"""Programmatic Alembic: the schema is created and upgraded from ``lims_api/migrations``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from .db import make_engine

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


def alembic_config() -> Config:
    """Alembic config pointing at the package's migrations; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def init_db(url: str) -> None:
    """Create or upgrade the schema at ``url`` to the newest revision (``upgrade head``)."""
    config = alembic_config()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
