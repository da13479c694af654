"""Browser-facing guards: security headers, no CDN docs, same-origin writes, a declared body type, chain for staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/public/results", "/healthz"])
def test_every_answer_carries_the_security_headers(lims: Lims, path: str) -> None:
    response = lims.client.get(path)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_no_swagger_ui_from_a_cdn_and_the_openapi_document_stays(lims: Lims) -> None:
    assert lims.client.get("/docs").status_code == 404
    assert lims.client.get("/redoc").status_code == 404
    assert lims.client.get("/openapi.json").json()["info"]["title"] == "kuaijian LIMS"


@pytest.mark.parametrize("origin", ["http://testserver:9999", "http://evil.example", "null"])
def test_a_write_from_another_origin_is_refused_before_the_route(lims: Lims, origin: str) -> None:
    response = lims.client.post("/login", data={"username": "u", "password": "p"}, headers={"Origin": origin})
    assert response.status_code == 403 and "cross-origin request refused" in response.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'") == 0


def test_a_referer_from_another_port_is_refused_when_there_is_no_origin(lims: Lims) -> None:
    response = lims.client.post("/api/v1/admin/districts", json={"id": "yz", "name": "x"},
                                headers={**lims.auth, "Referer": "http://testserver:8080/page"})
    assert response.status_code == 403


def test_same_origin_writes_and_clients_without_origin_pass(lims: Lims) -> None:
    same = lims.client.post("/login", data={"username": "u", "password": "p"},
                            headers={"Origin": "http://testserver"})
    assert same.status_code == 401  # reached the route: wrong password
    assert lims.client.post("/api/v1/admin/districts", json={"id": "yz", "name": "x"},
                            headers=lims.auth).status_code == 201


def test_a_json_body_without_content_type_is_415(lims: Lims) -> None:
    response = lims.client.post("/api/v1/admin/districts", content=b'{"id": "yz", "name": "x"}',
                                headers=lims.auth)
    assert response.status_code == 415


def test_chain_status_needs_a_signed_in_role(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    path = f"/api/v1/gateways/{gateway.gateway}/chain"
    assert lims.client.get(path).status_code == 401
    assert lims.client.get(path, headers=lims.auth).status_code == 200
