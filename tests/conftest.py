"""Suite-wide set-up: find a PostgreSQL server for the storage tests when one answers."""

from __future__ import annotations

import os

import pytest

PG_CANDIDATES = (
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)


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
    if not os.environ.get("KUAIJIAN_TEST_PG_URL"):
        url = _first_answering_pg()
        if url:
            os.environ["KUAIJIAN_TEST_PG_URL"] = url


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("KUAIJIAN_TEST_PG_URL")
    return f"PostgreSQL tests: {url}" if url else "PostgreSQL tests: skipped (no server answered on 127.0.0.1:5432)"
