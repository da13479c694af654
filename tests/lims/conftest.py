"""Fixtures for the LIMS tests: a migrated database per test (SQLite file, or a fresh PostgreSQL
schema when KUAIJIAN_TEST_PG_URL is set), the app behind TestClient, and signing gateways."""

from __future__ import annotations

import copy
import json
import os
import uuid
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lims_api import LimsSettings, create_app, init_db
from lims_api.core.db import make_engine
from protocols.envelope import GENESIS_PREV, b64url_encode, canonical, envelope_hash, public_key_bytes, seal

PG_ENV = "KUAIJIAN_TEST_PG_URL"
ADMIN_TOKEN = "test-admin-token"
PASSWORD = "correct horse battery"
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 64}  # tests only; production keeps the defaults
VECTOR = json.loads((Path(__file__).parents[1] / "data" / "envelope-vector.json").read_text("utf-8"))
BASE_RESULT: dict[str, Any] = VECTOR["envelope"]["result"]
SITE = dict(BASE_RESULT["site"])


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def make_result(**changes: Any) -> dict[str, Any]:
    """The vector's TestResult with a fresh id and nested ``changes`` applied."""
    return _merge({**BASE_RESULT, "id": str(uuid.uuid4())}, changes)


def line_of(envelope: dict[str, Any]) -> str:
    """The JCS text a gateway stores and sends for an envelope."""
    return canonical(envelope).decode("utf-8")


def ndjson(*envelopes: dict[str, Any] | str) -> bytes:
    """NDJSON body: envelopes as JCS lines, strings taken as already-written lines."""
    return "".join((e if isinstance(e, str) else line_of(e)) + "\n" for e in envelopes).encode("utf-8")


@dataclass
class SigningGateway:
    """A gateway's signing side: key, id, site, and its chain position."""

    gateway: str = "gw-yz-market-07"
    site: dict[str, Any] = field(default_factory=lambda: dict(SITE))
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seq: int = 0
    prev: str = GENESIS_PREV

    @property
    def public_key(self) -> str:
        return b64url_encode(public_key_bytes(self.key.public_key()))

    def enrol_body(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "site": self.site, "public_key": self.public_key}

    @staticmethod
    def line(envelope: dict[str, Any]) -> str:
        """The JCS text a gateway stores and sends for an envelope."""
        return line_of(envelope)

    def result(self, **changes: Any) -> dict[str, Any]:
        """A valid TestResult of this gateway's site with ``changes`` merged in."""
        return make_result(**{"site": self.site, **changes})

    def seal_at(self, seq: int, prev: str, **changes: Any) -> dict[str, Any]:
        """Sign a result at an explicit chain position (does not advance the chain)."""
        result = self.result(**changes)
        return seal(self.key, gateway=self.gateway, seq=seq, prev=prev, result=result)

    def next(self, **changes: Any) -> dict[str, Any]:
        """Sign the next envelope of the chain and advance."""
        envelope = self.seal_at(self.seq + 1, self.prev, **changes)
        self.seq, self.prev = envelope["seq"], envelope_hash(envelope)
        return envelope


@dataclass
class Lims:
    """The app under test with a client and a separate engine to inspect what is committed."""

    client: TestClient
    engine: Engine
    url: str
    auth: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {ADMIN_TOKEN}"})

    @staticmethod
    def body(*envelopes: dict[str, Any] | str) -> bytes:
        """NDJSON body: envelopes as JCS lines, strings taken as already-written lines."""
        return ndjson(*envelopes)

    def enrol(self, gateway: SigningGateway) -> dict[str, Any]:
        response = self.client.post("/api/v1/gateways", json=gateway.enrol_body(), headers=self.auth)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def ingest(self, *items: dict[str, Any] | str | bytes) -> list[dict[str, Any]]:
        """POST envelopes (dicts), raw lines (str) or one ready body (bytes); return the line results."""
        body = items[0] if len(items) == 1 and isinstance(items[0], bytes) else ndjson(*items)  # type: ignore[arg-type]
        response = self.client.post(
            "/api/v1/ingest", content=body, headers={"Content-Type": "application/x-ndjson"}
        )
        assert response.status_code == 200, response.text
        return response.json()["results"]

    def admin(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """An admin call that must succeed; returns the JSON body (empty for 204)."""
        response = self.client.request(method, path, json=body, headers=self.auth)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else {}

    def district(self, district_id: str, name: str = "测试区") -> None:
        self.admin("POST", "/api/v1/admin/districts", {"id": district_id, "name": name})

    def place_site(self, site: dict[str, Any], district_id: str | None) -> None:
        """Create or update a site and put it in a district."""
        body = {"kind": site["kind"], "name": site["name"], "district_id": district_id}
        self.admin("PUT", f"/api/v1/admin/sites/{site['id']}", body)

    def user(self, username: str, role: str, *, sites: tuple[str, ...] = (), district: str | None = None) -> dict[str, str]:
        """Create a user, log in, return its Authorization header."""
        self.admin("POST", "/api/v1/admin/users", {"username": username, "password": PASSWORD, "role": role,
                                                   "site_ids": list(sites), "district_id": district})
        response = self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def scalar(self, sql: str, **params: Any) -> Any:
        with Session(self.engine) as session:
            return session.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with Session(self.engine) as session:
            return list(session.execute(text(sql), params).all())


def delete_envelope(conn: Any, where: str) -> None:
    """Tamper as an attacker with database access would: remove envelopes matching ``where`` (SQL) and the
    rows that reference them (flags, fingerprints, evidence names, cases …) first, as the foreign keys demand."""
    from lims_api.core.models import Base

    ids = [row[0] for row in conn.exec_driver_sql(f"SELECT id FROM envelopes WHERE {where}")]
    for table in reversed(Base.metadata.sorted_tables):
        if any(fk.column.table.name == "envelopes" for fk in table.foreign_keys):
            conn.execute(table.delete().where(table.c.envelope_id.in_(ids)))
    conn.exec_driver_sql(f"DELETE FROM envelopes WHERE {where}")


def _pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lims.sqlite3'}"
        init_db(url)
        yield url
        return
    with pg_schema("kj_lims") as url:
        yield url


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema (dropped afterwards) on ``KUAIJIAN_TEST_PG_URL``; skips without one."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL backend not tested: set {PG_ENV}=postgresql+psycopg://root@127.0.0.1:5432/test")
    schema = f"{prefix}_{uuid.uuid4().hex[:20]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_schema_url(base, schema)
        init_db(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> LimsSettings:
    return LimsSettings(database_url=db_url, admin_token=ADMIN_TOKEN, data_dir=tmp_path / "data", **FAST_HASHING)


@pytest.fixture
def lims(settings: LimsSettings, db_url: str) -> Iterator[Lims]:
    engine = make_engine(db_url)
    try:
        with TestClient(create_app(settings)) as client:
            yield Lims(client=client, engine=engine, url=db_url)
    finally:
        engine.dispose()


@pytest.fixture
def gateway() -> SigningGateway:
    return SigningGateway()


@pytest.fixture
def make_gateway() -> type[SigningGateway]:
    """Build more signing gateways: ``make_gateway(gateway=..., site=...)``."""
    return SigningGateway
