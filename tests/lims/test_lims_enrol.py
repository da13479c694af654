"""Gateway enrolment: admin auth, field-named validation, idempotent re-enrolment, key revocation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from lims_api import LimsSettings, create_app
from protocols.envelope import b64url_decode, key_id

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def test_enrol_without_token_is_401(lims: Lims, gateway: SigningGateway) -> None:
    response = lims.client.post("/api/v1/gateways", json=gateway.enrol_body())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_enrol_with_unknown_token_is_401(lims: Lims, gateway: SigningGateway) -> None:
    response = lims.client.post(
        "/api/v1/gateways", json=gateway.enrol_body(), headers={"Authorization": "Bearer not-the-token"}
    )
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM gateways") == 0


def test_enrol_refused_when_no_admin_token_configured(db_url: str, gateway: SigningGateway) -> None:
    with TestClient(create_app(LimsSettings(database_url=db_url))) as client:
        response = client.post("/api/v1/gateways", json=gateway.enrol_body(), headers={"Authorization": "Bearer "})
        assert response.status_code in (401, 403)
        response = client.post("/api/v1/gateways", json=gateway.enrol_body(), headers={"Authorization": "Bearer x"})
        assert response.status_code == 401


def test_enrol_stores_site_gateway_and_key(lims: Lims, gateway: SigningGateway) -> None:
    response = lims.client.post("/api/v1/gateways", json=gateway.enrol_body(), headers=lims.auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["gateway"] == gateway.gateway
    assert body["kid"] == key_id(b64url_decode(gateway.public_key))
    assert body["site_id"] == gateway.site["id"]
    assert datetime.fromisoformat(body["valid_from"]).utcoffset() is not None
    assert lims.rows("SELECT id, kind, name FROM sites") == [
        (gateway.site["id"], gateway.site["kind"], gateway.site["name"])
    ]
    assert lims.rows("SELECT gateway_id, kid, public_key, revoked_at FROM gateway_keys") == [
        (gateway.gateway, body["kid"], gateway.public_key, None)
    ]


def test_re_enrolling_the_same_key_is_idempotent(lims: Lims, gateway: SigningGateway) -> None:
    first = lims.client.post("/api/v1/gateways", json=gateway.enrol_body(), headers=lims.auth)
    again = lims.client.post("/api/v1/gateways", json=gateway.enrol_body(), headers=lims.auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert lims.scalar("SELECT count(*) FROM gateway_keys") == 1


def test_a_second_key_for_the_same_gateway_is_added(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    rotated = type(gateway)(gateway=gateway.gateway)
    response = lims.client.post("/api/v1/gateways", json=rotated.enrol_body(), headers=lims.auth)
    assert response.status_code == 201
    assert lims.scalar("SELECT count(*) FROM gateway_keys") == 2


def test_gateway_bound_to_another_site_is_409(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    moved = type(gateway)(gateway=gateway.gateway, site={"id": "yz-school-01", "kind": "school", "name": "某小学"})
    response = lims.client.post("/api/v1/gateways", json=moved.enrol_body(), headers=lims.auth)
    assert response.status_code == 409
    assert "yz-market-07" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"public_key": "AAAA"}, "public_key"),
        ({"public_key": "not base64url!"}, "public_key"),
        ({"gateway": "GW_Upper"}, "gateway"),
        ({"site": {"id": "s1", "kind": "bakery", "name": "x"}}, "kind"),
    ],
)
def test_invalid_enrolment_names_the_field(
    lims: Lims, gateway: SigningGateway, change: dict[str, object], field: str
) -> None:
    response = lims.client.post("/api/v1/gateways", json={**gateway.enrol_body(), **change}, headers=lims.auth)
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(location[-1] == field for location in locations), locations


def test_short_public_key_error_says_why(lims: Lims, gateway: SigningGateway) -> None:
    body = {**gateway.enrol_body(), "public_key": "AAAA"}
    response = lims.client.post("/api/v1/gateways", json=body, headers=lims.auth)
    assert "32 raw bytes" in response.json()["detail"][0]["msg"]


def test_revoke_needs_admin_and_marks_the_key(lims: Lims, gateway: SigningGateway) -> None:
    kid = lims.enrol(gateway)["kid"]
    path = f"/api/v1/gateways/{gateway.gateway}/keys/{kid}/revoke"
    assert lims.client.post(path).status_code == 401
    response = lims.client.post(path, headers=lims.auth)
    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["revoked_at"]).utcoffset() is not None
    assert lims.scalar("SELECT count(*) FROM gateway_keys WHERE revoked_at IS NOT NULL") == 1
    unknown = f"/api/v1/gateways/{gateway.gateway}/keys/0000000000000000/revoke"
    assert lims.client.post(unknown, headers=lims.auth).status_code == 404
