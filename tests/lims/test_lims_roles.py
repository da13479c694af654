"""Role × endpoint matrix: every role against every scoped endpoint, including cross-site attempts.

One world per backend (module scope): district yz holds the market (site A), district jb the
school (site B); each site has a gateway, a positive result (so a case) and a public request.
A 200 answer must never carry data of a site outside the caller's scope, and public answers
never carry operator, supplier, origin or barcode.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from lims_api import LimsSettings, create_app, init_db
from lims_api.core.db import make_engine

from .conftest import ADMIN_TOKEN, FAST_HASHING, Lims, PG_ENV, SITE, SigningGateway, _pg_schema_url

DAY = "2026-11-23"
SITE_B = {"id": "yz-school-03", "kind": "school", "name": "江北区第三小学食堂"}
MARK = {"A": "样品甲号", "B": "样品乙号"}
HIDDEN = ("tech-0031", "张记蔬菜批发", "重庆市璧山区", "6901234567892")
ROLES = ("public", "technician_a", "manager_a", "regulator_yz", "regulator_jb", "admin_user", "bootstrap")
SCOPE = {"public": set(), "technician_a": {"A"}, "manager_a": {"A"}, "regulator_yz": {"A"},
         "regulator_jb": {"B"}, "admin_user": {"A", "B"}, "bootstrap": {"A", "B"}}


@dataclass
class World:
    lims: Lims
    headers: dict[str, dict[str, str]]
    case_b: int
    request_b: int
    gateway_b: SigningGateway


def _build(lims: Lims) -> World:
    market, school = SigningGateway(), SigningGateway(gateway="gw-yz-school-03", site=SITE_B)
    lims.enrol(market)
    lims.enrol(school)
    lims.district("yz", "渝中区")
    lims.district("jb", "江北区")
    lims.place_site(SITE, "yz")
    lims.place_site(SITE_B, "jb")
    stored = lims.ingest(market.next(sample={"name": MARK["A"]}, tested_at=f"{DAY}T09:00:00+08:00"),
                         school.next(sample={"name": MARK["B"], "barcode": "TRACE-B"},
                                     tested_at=f"{DAY}T10:00:00+08:00"))
    assert [r["status"] for r in stored] == ["stored", "stored"]
    headers = {
        "public": {},
        "technician_a": lims.user("tech-a", "technician", sites=(SITE["id"],)),
        "manager_a": lims.user("manager-a", "manager", sites=(SITE["id"],)),
        "regulator_yz": lims.user("reg-yz", "regulator", district="yz"),
        "regulator_jb": lims.user("reg-jb", "regulator", district="jb"),
        "admin_user": lims.user("admin-1", "admin"),
        "bootstrap": lims.auth,
    }
    case_b = lims.scalar("SELECT id FROM cases WHERE site_id = :s", s=SITE_B["id"])
    asked = lims.client.post("/api/v1/public/requests", json={"product": "韭菜", "site_id": SITE_B["id"]})
    assert asked.status_code == 201, asked.text
    return World(lims, headers, case_b, asked.json()["id"], school)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("roles")
    admin_engine, schema = None, None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'lims.sqlite3'}"
    else:
        base = os.environ.get(PG_ENV)
        if not base:
            pytest.skip(f"PostgreSQL backend not tested: set {PG_ENV}")
        schema = f"kj_roles_{uuid.uuid4().hex[:16]}"
        admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_schema_url(base, schema)
    init_db(url)
    engine = make_engine(url)
    settings = LimsSettings(database_url=url, admin_token=ADMIN_TOKEN, data_dir=tmp / "data", **FAST_HASHING)
    try:
        with TestClient(create_app(settings)) as client:
            yield _build(Lims(client=client, engine=engine, url=url))
    finally:
        engine.dispose()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin_engine.dispose()


OK = (200, 201, 204, 409)  # 409: allowed, but the step was already taken by an earlier role
ALL_STAFF = {"technician_a": 200, "manager_a": 200, "regulator_yz": 200, "regulator_jb": 200,
             "admin_user": 200, "bootstrap": 200}
ADMIN_ONLY = {"public": 401, "technician_a": 403, "manager_a": 403, "regulator_yz": 403, "regulator_jb": 403,
              "admin_user": OK, "bootstrap": OK}
ONLY_B_CASE_ROLES = {"public": 401, "technician_a": 403, "manager_a": 404, "regulator_yz": 404,
                     "regulator_jb": OK, "admin_user": OK, "bootstrap": OK}

ENDPOINTS: dict[str, tuple[str, str, Any, dict[str, Any]]] = {
    # name: (method, path, body, expected status by role)
    "results": ("GET", "/api/v1/results", None, {"public": 401, **ALL_STAFF}),
    "results_of_site_b": ("GET", f"/api/v1/results?site={SITE_B['id']}", None, {
        "public": 401, "technician_a": 404, "manager_a": 404, "regulator_yz": 404, "regulator_jb": 200,
        "admin_user": 200, "bootstrap": 200}),
    "results_by_trace_code_of_b": ("GET", "/api/v1/results?trace_code=TRACE-B", None, {"public": 401, **ALL_STAFF}),
    "today_page_a": ("GET", f"/sites/{SITE['id']}/today?date={DAY}", None, {
        "public": 303, "technician_a": 200, "manager_a": 200, "regulator_yz": 200, "regulator_jb": 404,
        "admin_user": 200, "bootstrap": 200}),
    "today_page_b": ("GET", f"/sites/{SITE_B['id']}/today?date={DAY}", None, {
        "public": 303, "technician_a": 404, "manager_a": 404, "regulator_yz": 404, "regulator_jb": 200,
        "admin_user": 200, "bootstrap": 200}),
    "public_results_b": ("GET", f"/api/v1/public/results?site={SITE_B['id']}&date={DAY}", None,
                         dict.fromkeys(ROLES, 200)),
    "public_page_b": ("GET", f"/public/sites/{SITE_B['id']}?date={DAY}", None, dict.fromkeys(ROLES, 200)),
    "chain_status": ("GET", "/api/v1/gateways/gw-yz-school-03/chain", None, {"public": 401, **ALL_STAFF}),
    "cases": ("GET", "/api/v1/cases", None, {"public": 401, "technician_a": 403, "manager_a": 200,
                                             "regulator_yz": 200, "regulator_jb": 200, "admin_user": 200,
                                             "bootstrap": 200}),
    "case_b": ("GET", "/api/v1/cases/{case_b}", None, ONLY_B_CASE_ROLES),
    "case_b_notify_vendor": ("POST", "/api/v1/cases/{case_b}/actions", {"action": "notify_vendor"},
                             ONLY_B_CASE_ROLES),
    "requests": ("GET", "/api/v1/requests", None, {"public": 401, **ALL_STAFF}),
    "request_b_triage": ("POST", "/api/v1/requests/{request_b}/triage",
                         {"decision": "assign", "site_id": SITE_B["id"]}, ONLY_B_CASE_ROLES),
    "admin_create_district": ("POST", "/api/v1/admin/districts", {"id": "d-{role}", "name": "新区"}, ADMIN_ONLY),
    "admin_create_user": ("POST", "/api/v1/admin/users", {"username": "u-{role}", "password": "long enough pw",
                                                           "role": "admin"}, ADMIN_ONLY),
    "enrol_gateway": ("POST", "/api/v1/gateways", "enrol", ADMIN_ONLY),
    "rotate_key_b": ("POST", "/api/v1/gateways/gw-yz-school-03/keys", "rotate", ADMIN_ONLY),
}
MATRIX = [(name, role) for name in ENDPOINTS for role in ROLES]


def _body(world: World, body: Any, role: str) -> Any:
    if body == "enrol":
        return SigningGateway(gateway=f"gw-new-{role.replace('_', '-')}").enrol_body()
    if body == "rotate":
        return {"public_key": SigningGateway().public_key}
    if isinstance(body, dict):
        return {k: v.format(role=role.replace("_", "-")) if isinstance(v, str) else v for k, v in body.items()}
    return body


@pytest.mark.parametrize(("endpoint", "role"), MATRIX, ids=[f"{e}-{r}" for e, r in MATRIX])
def test_role_matrix(world: World, endpoint: str, role: str) -> None:
    method, path, body, expected = ENDPOINTS[endpoint]
    url = path.format(case_b=world.case_b, request_b=world.request_b)
    response = world.lims.client.request(method, url, json=_body(world, body, role), headers=world.headers[role],
                                         follow_redirects=False)
    want = expected[role]
    assert response.status_code in (want if isinstance(want, tuple) else (want,)), response.text
    for site in {"A", "B"} - SCOPE[role]:
        if not endpoint.startswith("public"):
            assert MARK[site] not in response.text, f"{role} saw data of site {site}"
    if endpoint in ("results", "today_page_a", "today_page_b", "public_results_b") and response.status_code == 200:
        shown = {"today_page_a": {"A"}, "today_page_b": {"B"}, "public_results_b": {"B"}}.get(endpoint, SCOPE[role])
        assert all(MARK[site] in response.text for site in shown), f"{role} misses its own data"
    if endpoint.startswith("public"):
        assert not any(hidden in response.text for hidden in HIDDEN)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login?next=")


def test_matrix_covers_every_role_and_route(world: World) -> None:
    assert all(set(expected) == set(ROLES) for *_, expected in ENDPOINTS.values())
    assert len(MATRIX) == len(ENDPOINTS) * len(ROLES)
