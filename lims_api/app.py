"""Application factory: wires settings, database, templates and routers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .audit import log_router
from .audit.log_scheduler import run_periodically
from .audit.signing_key import load_or_create_key
from .audit.signing_key import derived_secret, load_or_create_key
from .core.body_limit import BodyLimit
from .core.db import make_engine, make_sessionmaker
from .core.openapi_doc import install_error_docs
from .core.web_guard import WebGuard
from .core.notifier import ChangeNotifier
from .core.settings import LimsSettings
from .evidence import router as evidence_router
from .followup import cases_router, requests_router
from .ingest import heartbeat_router, results_router, router as ingest_router
from .pages import board_router, case_router, console_router, flagged_router, notice_router, request_router, site_router
from .pages import result_router
from .pages.filters import install_filters
from .people import account_router, admin_router, auth_router, gateways_router, technicians_router
from .people.auth import make_hasher
from .people.login_throttle import LoginThrottle
from .people.password_slots import PasswordSlots

ROUTERS = (auth_router, account_router, admin_router, gateways_router, technicians_router, heartbeat_router,
           ingest_router,
           results_router, cases_router, requests_router, site_router, board_router, case_router, request_router,
           notice_router, console_router, flagged_router, evidence_router, log_router,
           result_router)
"""Every domain's router, in the order they are mounted."""

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "pages" / "templates"
STATIC_DIR = Path(__file__).parent / "pages" / "static"


def create_app(settings: LimsSettings) -> FastAPI:
    """Build the LIMS app for ``settings``; the schema must already be migrated (``init_db``)."""
    engine = make_engine(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if settings.tree_head_interval_min > 0:
            key = load_or_create_key(settings.data_dir)
            interval = settings.tree_head_interval_min * 60
            task = asyncio.create_task(run_periodically(app.state.sessionmaker, key, interval, stop))
        yield
        stop.set()
        if task is not None:
            await task
        engine.dispose()

    # no /docs or /redoc: FastAPI loads them from a public CDN, which a district network cannot reach;
    # the document itself is served at /openapi.json for any local viewer
    app = FastAPI(title="kuaijian LIMS", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    install_filters(app.state.templates.env, settings.timezone)
    app.state.notifier = ChangeNotifier()
    app.state.password_hasher = make_hasher(settings.password_time_cost, settings.password_memory_kib)
    app.state.client_hash_key = derived_secret(load_or_create_key(settings.data_dir), "client-hash")
    app.state.login_throttle = LoginThrottle(settings.login_failures_per_account, settings.login_failures_per_client,
                                             settings.login_failure_window_s)
    app.state.password_slots = PasswordSlots(settings.password_hash_concurrency, settings.password_hash_wait_s)
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_docs(app)
    app.add_middleware(BodyLimit, large=settings.max_body_bytes, small=settings.max_request_bytes)
    app.add_middleware(WebGuard)

    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        """The database's transient faults answer 503, retry soon: a lost or refused connection, a deadlock.

        Whatever the request had not committed is rolled back; other database errors stay 500s (bugs).
        """
        if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
            raise exc
        return _retry_shortly(request, exc, str(exc.orig))

    @app.exception_handler(PoolTimeout)
    async def connection_pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        """Every pooled connection stayed busy past the pool timeout: 503, retry soon."""
        return _retry_shortly(request, exc, str(exc))

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _retry_shortly(request: Request, exc: Exception, error: str) -> JSONResponse:
    """503 with ``Retry-After``, logged with the path and the database's own message."""
    log.warning("database unavailable", extra={"path": request.url.path, "error": error,
                                                "error_type": type(exc).__name__})
    return JSONResponse({"detail": "database unavailable, retry shortly"}, status_code=503,
                        headers={"Retry-After": "2"})
