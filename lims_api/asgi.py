"""ASGI entry for process managers: ``uvicorn lims_api.asgi:factory --factory --workers 4``.

Settings come from ``KUAIJIAN_LIMS_*`` environment variables; the schema must be migrated first
(``python -m lims_api init-db``), since several workers must not race to migrate.
"""

from __future__ import annotations

from fastapi import FastAPI

from lims_api.core.settings import LimsSettings

from .app import create_app


def factory() -> FastAPI:
    """A LIMS app built from the environment."""
    return create_app(LimsSettings())
