"""protocols.wire: the one gateway-LIMS contract both sides import."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.envelope import b64url_encode, public_key_bytes
from protocols.errors import WireError
from protocols.wire import topics
from protocols.wire.heartbeat import Heartbeat, build_heartbeat, parse_document, sign_document, verify_document
from protocols.wire.paths import evidence_path, heartbeat_path

SNAPSHOT = {"gateway": "gw-1", "instruments": [{"id": "ei-01", "state": "online"}],
            "backlog": {"pending": 3, "last_seq": 41}, "uplink": {"last_upload_at": None}}


def test_topics_of_a_gateway_round_trip_through_the_envelope_filter():
    mine = topics.GatewayTopics.of("kuaijian/v1", "gw-1")
    assert (mine.envelopes, mine.acks, mine.status) == (
        "kuaijian/v1/gw-1/envelopes", "kuaijian/v1/gw-1/acks", "kuaijian/v1/gw-1/status")
    assert topics.envelope_filter("kuaijian/v1") == "kuaijian/v1/+/envelopes"
    assert topics.gateway_of("kuaijian/v1", mine.envelopes) == "gw-1"
    with pytest.raises(WireError, match="not an envelope topic"):
        topics.gateway_of("kuaijian/v1", mine.acks)


@pytest.mark.parametrize("prefix", ["", "/a", "a/", "a/+", "a/#", "a\x00b"])
def test_a_prefix_that_cannot_head_topics_is_refused(prefix):
    with pytest.raises(WireError, match="MQTT topic prefix"):
        topics.check_prefix(prefix)


def test_paths():
    assert heartbeat_path("gw-1") == "/api/v1/gateways/gw-1/heartbeat"
    assert evidence_path("ab" * 32) == "/api/v1/evidence/" + "ab" * 32


def test_a_signed_heartbeat_verifies_and_any_change_breaks_it():
    key = Ed25519PrivateKey.generate()
    public = b64url_encode(public_key_bytes(key.public_key()))
    document = sign_document(build_heartbeat(SNAPSHOT, "0123456789abcdef", datetime(2026, 1, 1, tzinfo=timezone.utc),
                                              30.0, "site-1"), key)
    verify_document(document, document["sig"], public)
    beat = parse_document(Heartbeat, document)
    assert (beat.site, beat.status.backlog, beat.status.last_seq) == ("site-1", 3, 41)
    with pytest.raises(WireError, match="does not verify"):
        verify_document({**document, "status": {**document["status"], "backlog": 0}}, document["sig"], public)
    with pytest.raises(WireError, match="does not verify"):
        verify_document(document, document["sig"], b64url_encode(public_key_bytes(Ed25519PrivateKey.generate().public_key())))


def test_a_malformed_heartbeat_names_the_member():
    key = Ed25519PrivateKey.generate()
    document = sign_document(build_heartbeat(SNAPSHOT, "0123456789abcdef", datetime(2026, 1, 1, tzinfo=timezone.utc),
                                              30.0), key)
    document["status"]["backlog"] = -1
    with pytest.raises(WireError, match=r"status\.backlog"):
        parse_document(Heartbeat, document)


def test_heartbeat_wire_form_is_pinned():
    """The signed bytes of a heartbeat are those of the earlier (pydantic) gateways."""
    from protocols.envelope import canonical

    snapshot = {"gateway": "gw-1", "instruments": [{"id": "ei-01", "state": "up", "calibration_due": "2027-01-01"}],
                "backlog": {"pending": 3, "last_seq": 9}, "uplink": {"last_upload_at": None}}
    beat = build_heartbeat(snapshot, "abcdef0123456789", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), 30.0,
                           "site-1")
    assert canonical(beat).decode() == (
        '{"gateway":"gw-1","interval_s":30,"kid":"abcdef0123456789","sent_at":"2026-01-02T03:04:05.000+00:00",'
        '"site":"site-1","status":{"backlog":3,"instruments":[{"calibration_due":"2027-01-01","id":"ei-01",'
        '"last_error":null,"last_result_at":null,"state":"up"}],"last_seq":9,"last_upload_at":null}}')
    parsed = parse_document(Heartbeat, {**beat, "sig": "x"})
    assert parsed.status.instruments[0].calibration_due.isoformat() == "2027-01-01"
