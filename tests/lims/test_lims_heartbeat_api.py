"""POST /api/v1/gateways/{id}/heartbeat: signed by the gateway's current key, newest kept, clear refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.envelope import key_id, public_key_bytes
from protocols.wire.heartbeat import sign_document

from .conftest import Lims, SigningGateway

STATUS = {"instruments": [{"id": "ei-01", "state": "online", "last_result_at": None, "last_error": None}],
          "backlog": 3, "last_seq": 41, "last_upload_at": None}


def beat(gw: SigningGateway, /, *, sent_at: datetime | None = None, key: Ed25519PrivateKey | None = None,
         **changes: Any) -> dict[str, Any]:
    signer = key or gw.key
    document = {"gateway": gw.gateway, "kid": key_id(public_key_bytes(signer.public_key())),
                "sent_at": (sent_at or datetime.now().astimezone()).isoformat(timespec="milliseconds"),
                "interval_s": 30.0, "status": STATUS, **changes}
    return sign_document(document, signer)


def post(lims: Lims, gateway_id: str, body: Any) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lims.client.post(f"/api/v1/gateways/{gateway_id}/heartbeat", content=content,
                            headers={"Content-Type": "application/json"})


def test_signed_heartbeat_is_stored_with_clock_skew(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    sent = datetime.now().astimezone() - timedelta(seconds=120)  # the gateway clock is 2 minutes behind
    response = post(lims, gateway.gateway, beat(gateway, sent_at=sent))
    assert response.status_code == 200, response.text
    assert 119 < response.json()["clock_skew_s"] < 125
    backlog, last_seq, interval = lims.rows("SELECT backlog, last_seq, interval_s FROM gateway_heartbeats")[0]
    assert (backlog, last_seq, interval) == (3, 41, 30.0)
    newer = post(lims, gateway.gateway, beat(gateway, status={**STATUS, "backlog": 0}))
    assert newer.status_code == 200 and lims.scalar("SELECT backlog FROM gateway_heartbeats") == 0
    assert lims.scalar("SELECT count(*) FROM gateway_heartbeats") == 1


def test_rotated_key_signs_too(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    new_key = Ed25519PrivateKey.generate()
    rotated = SigningGateway(gateway=gateway.gateway, site=gateway.site, key=new_key)
    lims.admin("POST", f"/api/v1/gateways/{gateway.gateway}/keys", {"public_key": rotated.public_key})
    assert post(lims, gateway.gateway, beat(gateway, key=new_key)).status_code == 200


@pytest.mark.parametrize(("name", "status", "words"), [
    ("unsigned", 401, "not signed"),
    ("forged", 403, "does not verify"),
    ("tampered", 403, "does not verify"),
    ("unknown_kid", 403, "is not a key of gateway"),
    ("other_gateway_in_body", 422, "was posted for"),
    ("malformed", 422, "status.backlog"),
    ("not_json", 422, "not valid JSON"),
])
def test_refusals_say_why(lims: Lims, gateway: SigningGateway, name: str, status: int, words: str) -> None:
    lims.enrol(gateway)
    good = beat(gateway)
    bodies: dict[str, Any] = {
        "unsigned": {k: v for k, v in good.items() if k != "sig"},
        "forged": {**good, "sig": beat(gateway, key=Ed25519PrivateKey.generate(), kid=good["kid"])["sig"]},
        "tampered": {**good, "status": {**STATUS, "backlog": 0}},
        "unknown_kid": beat(gateway, key=Ed25519PrivateKey.generate()),
        "other_gateway_in_body": beat(gateway, gateway="gw-other"),
        "malformed": beat(gateway, status={**STATUS, "backlog": -1}),
        "not_json": b"{not json",
    }
    response = post(lims, gateway.gateway, bodies[name])
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM gateway_heartbeats") == 0


def test_calibration_due_is_optional_and_checked(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    assert "calibration_due" not in STATUS["instruments"][0]  # an older gateway's document
    assert post(lims, gateway.gateway, beat(gateway)).status_code == 200
    dated = [{**STATUS["instruments"][0], "calibration_due": "2027-03-01"},
             {"id": "gr-01", "state": "online", "last_result_at": None, "last_error": None, "calibration_due": None}]
    assert post(lims, gateway.gateway, beat(gateway, status={**STATUS, "instruments": dated})).status_code == 200
    stored = json.loads(lims.scalar("SELECT document FROM gateway_heartbeats"))
    assert [i["calibration_due"] for i in stored["status"]["instruments"]] == ["2027-03-01", None]
    bad = [{**STATUS["instruments"][0], "calibration_due": "2027-02-30"}]
    refused = post(lims, gateway.gateway, beat(gateway, status={**STATUS, "instruments": bad}))
    assert refused.status_code == 422
    assert "status.instruments.0.calibration_due" in refused.json()["detail"]
    assert "not a calendar date" in refused.json()["detail"]


def test_revoked_key_unknown_gateway_and_replay_are_refused(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    first = beat(gateway)
    assert post(lims, gateway.gateway, first).status_code == 200
    replay = post(lims, gateway.gateway, first)
    assert replay.status_code == 409 and "not newer" in replay.json()["detail"]
    unknown = post(lims, "gw-nobody", beat(SigningGateway(gateway="gw-nobody")))
    assert unknown.status_code == 404 and "not enrolled" in unknown.json()["detail"]
    kid = first["kid"]
    lims.admin("POST", f"/api/v1/gateways/{gateway.gateway}/keys/{kid}/revoke", {})
    revoked = post(lims, gateway.gateway, beat(gateway))
    assert revoked.status_code == 403 and "revoked" in revoked.json()["detail"]
