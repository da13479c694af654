"""Login, tokens, the cookie login form, and admin management of users and sites."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session

from lims_api.people.models import AuthToken

from .conftest import PASSWORD

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def test_login_issues_a_hashed_expiring_token_and_failures_are_audited(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    headers = lims.user("m1", "manager", sites=(gateway.site["id"],))
    token = headers["Authorization"].removeprefix("Bearer ")
    assert lims.scalar("SELECT password_hash FROM users WHERE username = 'm1'").startswith("$argon2id$")
    stored = lims.scalar("SELECT token_hash FROM auth_tokens WHERE kind = 'session'")
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    bad = lims.client.post("/api/v1/auth/login", json={"username": "m1", "password": "wrong password"})
    nobody = lims.client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x"})
    assert bad.status_code == nobody.status_code == 401
    assert bad.json()["detail"] == nobody.json()["detail"]  # no hint which part was wrong
    failures = lims.rows("SELECT subject FROM audit_log WHERE action = 'auth.login_failed' ORDER BY seq")
    assert [f.subject for f in failures] == ["user:m1", "user:ghost"]


def test_expired_and_revoked_tokens_are_refused(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    headers = lims.user("m1", "manager", sites=(gateway.site["id"],))
    assert lims.client.get("/api/v1/results", headers=headers).status_code == 200
    with Session(lims.engine) as session:
        session.execute(update(AuthToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert lims.client.get("/api/v1/results", headers=headers).status_code == 401
    fresh = lims.client.post("/api/v1/auth/login", json={"username": "m1", "password": PASSWORD}).json()["token"]
    fresh_headers = {"Authorization": f"Bearer {fresh}"}
    api = lims.client.post("/api/v1/auth/tokens", json={"label": "dashboard"}, headers=fresh_headers)
    assert api.status_code == 201 and api.json()["expires_at"].startswith(str(datetime.now(UTC).year + 1))
    assert lims.client.post("/api/v1/auth/logout", headers=fresh_headers).status_code == 204
    assert lims.client.get("/api/v1/results", headers=fresh_headers).status_code == 401
    api_headers = {"Authorization": f"Bearer {api.json()['token']}"}
    assert lims.client.get("/api/v1/results", headers=api_headers).status_code == 200
    assert lims.client.post("/api/v1/auth/tokens", json={"label": "x"}, headers=lims.auth).status_code == 403


def test_login_form_sets_a_cookie_that_opens_the_site_page(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.user("t1", "technician", sites=(gateway.site["id"],))
    page = f"/sites/{gateway.site['id']}/today"
    first = lims.client.get(page, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == f"/login?next={page}"
    form = lims.client.get(first.headers["location"])
    assert form.status_code == 200 and 'name="password"' in form.text
    wrong = lims.client.post("/login", data={"username": "t1", "password": "nope", "next": page})
    assert wrong.status_code == 401 and "错误" in wrong.text
    done = lims.client.post("/login", data={"username": "t1", "password": PASSWORD, "next": page},
                            follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == page
    assert "httponly" in done.headers["set-cookie"].lower()
    shown = lims.client.get(page)
    assert shown.status_code == 200 and gateway.site["name"] in shown.text
    evil = lims.client.post("/login", data={"username": "t1", "password": PASSWORD, "next": "//evil.example"},
                            follow_redirects=False)
    assert evil.headers["location"] == "/"


def test_admin_directory_validates_scope_fields(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.district("yz", "渝中区")
    lims.place_site(gateway.site, "yz")
    def create(**body: object) -> tuple[int, str]:
        response = lims.client.post("/api/v1/admin/users", headers=lims.auth,
                                    json={"username": "u1", "password": PASSWORD, **body})
        return response.status_code, response.text
    assert create(role="regulator")[0] == 409 and "district_id" in create(role="regulator")[1]
    assert create(role="technician", site_ids=["no-such-site"])[0] == 409
    assert create(role="admin", site_ids=[gateway.site["id"]])[0] == 409
    assert create(role="regulator", district_id="nowhere")[0] == 409
    assert create(role="manager", site_ids=[gateway.site["id"]])[0] == 201
    assert create(role="manager")[0] == 409  # username taken
    short = lims.client.post("/api/v1/admin/users", headers=lims.auth,
                             json={"username": "u2", "password": "short", "role": "admin"})
    assert short.status_code == 422 and short.json()["detail"][0]["loc"][-1] == "password"
    moved = lims.client.put("/api/v1/admin/users/u1/sites", headers=lims.auth, json={"site_ids": []})
    assert moved.status_code == 200 and moved.json()["site_ids"] == []
    room = lims.client.post(f"/api/v1/admin/sites/{gateway.site['id']}/rooms", headers=lims.auth,
                            json={"name": "一号快检室"})
    assert room.status_code == 201
    placed = lims.client.put(f"/api/v1/admin/gateways/{gateway.gateway}/room", headers=lims.auth,
                             json={"room_id": room.json()["id"]})
    assert placed.status_code == 204
    assert lims.scalar("SELECT room_id FROM gateways") == room.json()["id"]
    assert lims.scalar("SELECT district_id FROM sites") == "yz"


def test_openapi_shows_examples_for_the_main_request_models(lims: Lims) -> None:
    schemas = lims.client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("EnrolRequest", "KeyRequest", "LoginRequest", "UserIn", "SitePut", "CaseActionIn",
                 "PublicRequestIn", "TriageIn", "CloseRequestIn"):
        assert schemas[name].get("examples"), name
