"""Accounts: API tokens expire, are listed and revoked; passwords change; the admin disables users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .conftest import PASSWORD

if TYPE_CHECKING:
    from .conftest import Lims

NEW_PASSWORD = "a much longer new secret"


def test_tokens_are_listed_without_secrets_and_revoked_one_by_one(lims: Lims) -> None:
    headers = lims.user("m1", "manager")
    api = lims.client.post("/api/v1/auth/tokens", json={"label": "dashboard"}, headers=headers).json()
    listed = lims.client.get("/api/v1/auth/tokens", headers=headers).json()["tokens"]
    assert [(t["kind"], t["label"]) for t in listed] == [("api", "dashboard"), ("session", None)]
    assert api["token"] not in str(listed) and all(t["expires_at"] for t in listed)
    api_headers = {"Authorization": f"Bearer {api['token']}"}
    assert lims.client.get("/api/v1/results", headers=api_headers).status_code == 200
    revoked = lims.client.post(f"/api/v1/auth/tokens/{listed[0]['id']}/revoke", headers=headers)
    assert revoked.status_code == 204
    assert lims.client.get("/api/v1/results", headers=api_headers).status_code == 401
    other = lims.user("m2", "manager")
    assert lims.client.post(f"/api/v1/auth/tokens/{listed[1]['id']}/revoke", headers=other).status_code == 404


def test_password_change_needs_the_current_one_and_ends_the_sessions(lims: Lims) -> None:
    headers = lims.user("t1", "technician")
    wrong = lims.client.post("/api/v1/auth/password", json={"current_password": "nope", "new_password": NEW_PASSWORD},
                             headers=headers)
    assert wrong.status_code == 401
    short = lims.client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"},
                             headers=headers)
    assert short.status_code == 422
    changed = lims.client.post("/api/v1/auth/password",
                               json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=headers)
    assert changed.status_code == 204
    assert lims.client.get("/api/v1/results", headers=headers).status_code == 401  # the session ended
    old = lims.client.post("/api/v1/auth/login", json={"username": "t1", "password": PASSWORD})
    new = lims.client.post("/api/v1/auth/login", json={"username": "t1", "password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (401, 200)


def test_a_disabled_user_cannot_log_in_and_loses_every_token(lims: Lims) -> None:
    headers = lims.user("r1", "technician")
    api = lims.client.post("/api/v1/auth/tokens", json={"label": "x"}, headers=headers).json()["token"]
    assert lims.client.post("/api/v1/admin/users/r1/disable", headers=lims.auth).json()["disabled_at"]
    assert lims.client.get("/api/v1/results", headers={"Authorization": f"Bearer {api}"}).status_code == 401
    assert lims.client.post("/api/v1/auth/login", json={"username": "r1", "password": PASSWORD}).status_code == 401
    assert lims.client.post("/api/v1/admin/users/r1/enable", headers=lims.auth).json()["disabled_at"] is None
    assert lims.client.post("/api/v1/auth/login", json={"username": "r1", "password": PASSWORD}).status_code == 200
    assert lims.client.post("/api/v1/admin/users/r1/disable", headers=headers).status_code in (401, 403)
    actions = [r.action for r in lims.rows("SELECT action FROM audit_log WHERE action LIKE 'user.%able' ORDER BY seq")]
    assert actions == ["user.disable", "user.enable"]
