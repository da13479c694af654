"""Login hardening and session rules: throttling per account and client, the Secure cookie, logout, expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from lims_api import create_app
from lims_api.people.login_throttle import LoginThrottle

from .conftest import PASSWORD

if TYPE_CHECKING:
    from lims_api import LimsSettings

    from .conftest import Lims


def _login(client: TestClient, username: str, password: str) -> int:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}).status_code


def test_an_account_is_locked_after_five_failures_even_for_the_right_password(lims: Lims) -> None:
    lims.user("manager-a", "manager")
    assert [_login(lims.client, "manager-a", "wrong") for _ in range(5)] == [401] * 5
    locked = lims.client.post("/api/v1/auth/login", json={"username": "manager-a", "password": PASSWORD})
    assert locked.status_code == 429 and 890 <= int(locked.headers["Retry-After"]) <= 900
    assert "too many failed logins" in locked.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'") == 5  # 429s not hashed
    lims.user("manager-b", "manager")  # another account from the same client still logs in


def test_a_client_is_throttled_across_usernames(lims: Lims) -> None:
    assert [_login(lims.client, f"guess-{n}", "x") for n in range(20)] == [401] * 20
    assert _login(lims.client, "guess-new", "x") == 429


def test_the_login_form_says_when_to_try_again(lims: Lims) -> None:
    for _ in range(5):
        lims.client.post("/login", data={"username": "u", "password": "p"})
    page = lims.client.post("/login", data={"username": "u", "password": "p"})
    assert page.status_code == 429 and "登录失败次数过多" in page.text and page.headers["Retry-After"]


def test_failures_leave_the_window_and_a_success_clears_the_account() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_account=2, per_client=10, window_s=60, clock=lambda: now[0])
    throttle.failed("a", "c1")
    throttle.failed("a", "c2")
    assert throttle.retry_after("a", "c3") == 60
    now[0] = 30
    assert throttle.retry_after("a", "c3") == 30
    now[0] = 60.5
    assert throttle.retry_after("a", "c3") is None
    throttle.failed("a", "c1")
    throttle.succeeded("a")
    assert throttle.retry_after("a", "c1") is None


def _cookie_header(settings: LimsSettings, base_url: str) -> str:
    with TestClient(create_app(settings), base_url=base_url) as client:
        response = client.post("/login", data={"username": "tech", "password": PASSWORD}, follow_redirects=False)
        assert response.status_code == 303
        return response.headers["set-cookie"]


def test_session_cookie_is_secure_over_https_and_when_set(lims: Lims, settings: LimsSettings) -> None:
    lims.user("tech", "technician")
    assert "secure" not in _cookie_header(settings, "http://testserver").lower()
    over_https = _cookie_header(settings, "https://testserver").lower()
    assert "secure" in over_https and "httponly" in over_https and "samesite=strict" in over_https
    behind_proxy = settings.model_copy(update={"session_cookie_secure": True})
    assert "secure" in _cookie_header(behind_proxy, "http://testserver").lower()


def test_logout_revokes_the_session_deletes_the_cookie_and_pages_show_the_login_form(lims: Lims) -> None:
    lims.district("yz")
    lims.user("reg", "regulator", district="yz")
    client = lims.client
    assert client.post("/login", data={"username": "reg", "password": PASSWORD}).status_code == 200
    token = client.cookies["kj_session"]
    console = client.get("/console")
    assert console.status_code == 200 and 'action="/logout"' in console.text
    out = client.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'kj_session=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.cookies.set("kj_session", token)  # a browser that kept the old cookie
    page = client.get("/console", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.logout'") == 1


def test_an_expired_session_shows_the_login_form_and_the_api_says_401(lims: Lims) -> None:
    lims.user("mgr", "manager")
    client = lims.client
    client.post("/login", data={"username": "mgr", "password": PASSWORD})
    token = client.cookies["kj_session"]
    with lims.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE auth_tokens SET expires_at = '2000-01-01 00:00:00.000000'")
    page = client.get("/board", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.get("/api/v1/results", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_case_action_from_another_port_is_refused_with_the_managers_cookie(lims: Lims) -> None:
    lims.user("mgr2", "manager")
    lims.client.post("/login", data={"username": "mgr2", "password": PASSWORD})
    response = lims.client.post("/cases/1/actions", data={"action": "notify_vendor", "note": "x"},
                                headers={"Origin": "http://testserver:8081"}, follow_redirects=False)
    assert response.status_code == 403
