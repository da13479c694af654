"""Suite-wide set-up: a PostgreSQL server for the storage tests.

In order: ``KUAIJIAN_TEST_PG_URL`` as given; a server answering on 127.0.0.1:5432; a private
throw-away cluster started for this run (``tests/pg_private.py``); else the PostgreSQL tests are
skipped, and the report header says why. ``KUAIJIAN_TEST_PG_PRIVATE=1`` skips the 5432 probe.
"""

from __future__ import annotations

import os

import pytest

from .pg_private import PrivatePg, PrivatePgUnavailable, start_private_pg

PG_ENV = "KUAIJIAN_TEST_PG_URL"
PG_CANDIDATES = (
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)
_private: list[PrivatePg] = []
_why_skipped: list[str] = []


def _first_answering_pg() -> str | None:
    try:
        import psycopg
    except ImportError:
        return None
    for url in PG_CANDIDATES:
        try:
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
                return url
        except psycopg.Error:
            continue
    return None


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(PG_ENV) or hasattr(config, "workerinput"):
        return
    url = None if os.environ.get("KUAIJIAN_TEST_PG_PRIVATE") == "1" else _first_answering_pg()
    if url is None:
        try:
            _private.append(start_private_pg())
            url = _private[0].url
        except PrivatePgUnavailable as exc:
            _why_skipped.append(f"no server answered on 127.0.0.1:5432 and none could be started: {exc}")
            return
    os.environ[PG_ENV] = url  # subprocesses (uvicorn workers, crash test) inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    while _private:
        _private.pop().stop()


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(PG_ENV)
    if url is None:
        return f"PostgreSQL tests: skipped ({'; '.join(_why_skipped) or 'not configured'})"
    return f"PostgreSQL tests: {url}" + (" (private cluster started for this run)" if _private else "")
