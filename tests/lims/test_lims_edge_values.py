"""Edge values never reach the database as a crash: ids beyond 64 bits and deep JSON are 4xx, not 500."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from lims_api.pages.board_router import _marker_from

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

BIG = 2**63


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", f"/api/v1/public/requests/{BIG}", None),
    ("GET", f"/api/v1/cases/{BIG}", None),
    ("POST", f"/api/v1/cases/{BIG}/actions", {"action": "notify_vendor", "note": "x"}),
    ("POST", f"/api/v1/requests/{BIG}/triage", {"decision": "reject", "note": "x"}),
    ("PUT", "/api/v1/admin/gateways/gw-yz-market-07/room", {"room_id": BIG}),
    ("GET", f"/board/yz-market-07/events?since={BIG}", None),
], ids=["public-request", "case", "case-action", "triage", "admin-room", "board-since"])
def test_integers_beyond_64_bits_are_422(
    lims: Lims, gateway: SigningGateway, method: str, path: str, body: dict[str, Any] | None
) -> None:
    lims.enrol(gateway)
    response = lims.client.request(method, path, json=body, headers=lims.auth)
    assert response.status_code == 422, response.text
    assert "less than or equal to 9223372036854775807" in response.text


def test_a_last_event_id_beyond_64_bits_falls_back_to_the_pages_marker() -> None:
    assert _marker_from(f"{BIG}:x", 5, "c") == (5, "c")
    assert _marker_from("7:x", 5, "c") == (7, "x")


def test_deeply_nested_json_to_the_anonymous_heartbeat_route_is_422(lims: Lims) -> None:
    body = b"[" * 50_000 + b"]" * 50_000
    response = lims.client.post("/api/v1/gateways/gw-x/heartbeat", content=body,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "nested too deeply" in response.json()["detail"]
