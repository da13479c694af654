"""ASGI entry for process managers: ``uvicorn lims_api.asgi:factory --factory --workers 4``.

Settings come from ``KUAIJIAN_LIMS_*`` environment variables; the schema must be migrated first
(``python -m lims_api init-db``), since several workers must not race to migrate.
"""

from __future__ import annotations

from fastapi import FastAPI

from lims_api.core.settings import LimsSettings
from lims_api.core.token_file import with_admin_token_file

from .app import create_app


def factory() -> FastAPI:
    """A LIMS app built from the environment (``KUAIJIAN_LIMS_ADMIN_TOKEN_FILE`` read here)."""
    return create_app(with_admin_token_file(LimsSettings()))
