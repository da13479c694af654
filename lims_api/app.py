"""Application factory: wires settings, database, templates and routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError

from .auth import make_hasher
from .db import make_engine, make_sessionmaker
from .notifier import ChangeNotifier
from .page_filters import install_filters
from .routers import (
    admin,
    auth,
    board,
    cases,
    console,
    gateways,
    heartbeats,
    ingest,
    notice,
    pages,
    requests,
    results,
)
from .settings import LimsSettings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: LimsSettings) -> FastAPI:
    """Build the LIMS app for ``settings``; the schema must already be migrated (``init_db``)."""
    engine = make_engine(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="kuaijian LIMS", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    install_filters(app.state.templates.env, settings.timezone)
    app.state.notifier = ChangeNotifier()
    app.state.password_hasher = make_hasher(settings.password_time_cost, settings.password_memory_kib)
    for module in (auth, admin, gateways, heartbeats, ingest, results, cases, requests, pages, board, notice, console):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        """A lost database connection is the server's transient fault: 503, retry soon (nothing was stored)."""
        if not exc.connection_invalidated:
            raise exc
        log.warning("database connection lost", extra={"path": request.url.path, "error": str(exc.orig)})
        return JSONResponse({"detail": "database unavailable, retry shortly"}, status_code=503,
                            headers={"Retry-After": "2"})

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
