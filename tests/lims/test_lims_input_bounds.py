"""Signed input cannot break pages: depth and sizes of result members, heartbeat numbers and clock bounded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from lims_api.ingest.limits import MAX_DEPTH, MAX_ITEMS, MAX_TEXT_CHARS

from .test_lims_heartbeat_api import beat, post

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def nested(depth: int) -> Any:
    """A value with ``depth`` levels of objects (``{"x": {"x": ... 1}}``)."""
    value: Any = 1
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize(("changes", "path", "words"), [
    ({"measurement": {"deep": nested(256)}}, "result.measurement.deep", f"deeper than {MAX_DEPTH} levels"),
    ({"sample": {"name": "菜" * 100_000}}, "result.sample.name", f"at most {MAX_TEXT_CHARS} allowed"),
    ({"qc": {"flags": ["x"] * (MAX_ITEMS + 1)}}, "result.qc.flags", f"at most {MAX_ITEMS} allowed"),
    ({"extra": {f"k{i}": i for i in range(201)}}, "result.extra", "201 members"),
    ({"extra": {"k" * 129: 1}}, "result.extra", "member name of 129 characters"),
], ids=["deep", "long-name", "long-array", "many-members", "long-key"])
def test_oversized_result_members_are_bad_result_and_pages_keep_working(
    lims: Lims, gateway: SigningGateway, changes: dict[str, Any], path: str, words: str
) -> None:
    lims.enrol(gateway)
    (result,) = lims.ingest(gateway.seal_at(1, "0" * 64, **changes))
    assert (result["status"], result["code"]) == ("rejected", "bad_result"), result
    assert result["error"].startswith(path) and words in result["error"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 0
    listed = lims.client.get("/api/v1/results", headers=lims.auth)
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_values_within_the_bounds_are_stored_and_listed(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    within = gateway.next(measurement={"curve": nested(MAX_DEPTH - 2)}, sample={"name": "菜" * MAX_TEXT_CHARS},
                          raw={"data": "A" * 200_000})  # the instrument bytes are bounded by the body limit only
    (result,) = lims.ingest(within)
    assert result["status"] == "stored", result
    listed = lims.client.get("/api/v1/results", headers=lims.auth)
    assert listed.status_code == 200 and listed.json()["results"][0]["result"]["measurement"]["curve"] == nested(
        MAX_DEPTH - 2)


@pytest.mark.parametrize(("changes", "words"), [
    ({"interval_s": 3e13}, "interval_s"),
    ({"status": {"instruments": [], "backlog": 2**40, "last_seq": 1, "last_upload_at": None}}, "status.backlog"),
    ({"status": {"instruments": [], "backlog": 0, "last_seq": 2**63, "last_upload_at": None}}, "status.last_seq"),
    ({"note": nested(40)}, "deeper than"),
], ids=["interval", "backlog", "last-seq", "deep"])
def test_heartbeat_numbers_out_of_bounds_are_422(
    lims: Lims, gateway: SigningGateway, changes: dict[str, Any], words: str
) -> None:
    lims.enrol(gateway)
    signable = {k: v for k, v in changes.items() if k != "status"}  # 2**63 cannot be signed (JCS): bounded first
    response = post(lims, gateway.gateway, {**beat(gateway, **signable), **changes})
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM gateway_heartbeats") == 0


def test_heartbeat_nested_beyond_the_parser_is_422_not_500(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    response = post(lims, gateway.gateway, b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    assert response.status_code == 422 and "nested too deeply" in response.json()["detail"]


def test_heartbeat_from_the_far_future_is_refused_and_honest_ones_go_on(
    lims: Lims, gateway: SigningGateway
) -> None:
    lims.enrol(gateway)
    future = datetime.now().astimezone() + timedelta(days=365 * 70)
    refused = post(lims, gateway.gateway, beat(gateway, sent_at=future))
    assert refused.status_code == 422 and "ahead of the LIMS clock" in refused.json()["detail"]
    slightly_ahead = datetime.now().astimezone() + timedelta(minutes=2)  # a drifting clock is still accepted
    assert post(lims, gateway.gateway, beat(gateway, sent_at=slightly_ahead)).status_code == 200
    later = slightly_ahead + timedelta(seconds=30)
    assert post(lims, gateway.gateway, beat(gateway, sent_at=later)).status_code == 200
