"""A gateway speaks only for its own site: results and heartbeats naming another site are refused and audited."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from .test_lims_heartbeat_api import beat, post
from .test_lims_mqtt_bridge import AckCollector, Mosquitto, broker, publish, run, running_bridge, sealed

__all__ = ["broker"]  # the real-broker fixture, shared with the bridge tests

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

MARKET_B = {"id": "yz-market-08", "kind": "market", "name": "渝中区大坪农贸市场"}
FAR_MARKET = {"id": "jb-market-01", "kind": "market", "name": "江北区观音桥农贸市场"}
NOWHERE = {"id": "no-such-site", "kind": "market", "name": "不存在的市场"}


def _wrong_site_audit(lims: Lims) -> list[dict[str, Any]]:
    rows = lims.rows("SELECT actor, subject, details FROM audit_log WHERE action = 'ingest.wrong_site' ORDER BY seq")
    return [{"actor": r.actor, "subject": r.subject, **json.loads(r.details)} for r in rows]


@pytest.mark.parametrize("claimed", ["another_market", "no_such_site"])
def test_result_for_another_site_is_wrong_site_stored_nowhere_and_audited(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], claimed: str
) -> None:
    lims.enrol(gateway)
    if claimed == "another_market":
        lims.enrol(make_gateway(gateway="gw-yz-market-08", site=MARKET_B))  # market B exists, with its own gateway
    site = MARKET_B if claimed == "another_market" else NOWHERE
    honest, forged_site = gateway.next(), gateway.next(site=site, verdict="negative")
    results = lims.ingest(honest, forged_site, gateway.next())
    assert [(r["seq"], r["status"], r["code"]) for r in results] == [
        (1, "stored", None), (2, "rejected", "wrong_site"), (3, "stored", None)]
    assert f"{site['id']!r}" in results[1]["error"] and "'yz-market-07'" in results[1]["error"]
    assert results[1]["hash"] is not None
    assert lims.scalar("SELECT count(*) FROM envelopes WHERE site_id = :s", s=site["id"]) == 0
    assert lims.scalar("SELECT count(*) FROM envelopes") == 2
    assert _wrong_site_audit(lims) == [{
        "actor": f"gateway:{gateway.gateway}", "subject": f"gateway:{gateway.gateway}", "seq": 2,
        "hash": results[1]["hash"], "site_id": site["id"], "enrolled_site_id": "yz-market-07"}]


def test_positive_for_a_market_in_another_district_opens_no_case_there(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]
) -> None:
    lims.district("yz", "渝中区")
    lims.district("jb", "江北区")
    lims.enrol(gateway)
    lims.enrol(make_gateway(gateway="gw-jb-market-01", site=FAR_MARKET))
    lims.place_site(gateway.site, "yz")
    lims.place_site(FAR_MARKET, "jb")
    (result,) = lims.ingest(gateway.next(site=FAR_MARKET, verdict="positive"))
    assert (result["status"], result["code"]) == ("rejected", "wrong_site")
    assert lims.scalar("SELECT count(*) FROM cases") == 0
    assert lims.scalar("SELECT count(*) FROM envelopes") == 0
    assert [entry["site_id"] for entry in _wrong_site_audit(lims)] == ["jb-market-01"]
    regulator = lims.user("jb-regulator", "regulator", district="jb")
    cases = lims.client.get("/api/v1/cases", headers=regulator)
    assert cases.status_code == 200 and cases.json()["cases"] == []


def test_honest_positive_still_opens_its_case(lims: Lims, gateway: SigningGateway) -> None:
    """The check refuses only the wrong site: the gateway's own positive is stored with its case."""
    lims.enrol(gateway)
    (result,) = lims.ingest(gateway.next(verdict="positive"))
    assert result["status"] == "stored"
    assert lims.scalar("SELECT count(*) FROM cases") == 1
    assert _wrong_site_audit(lims) == []


def test_mqtt_envelope_for_another_site_is_acked_wrong_site(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto
) -> None:
    lims.enrol(gateway)
    envelopes = [gateway.next(), gateway.next(site=MARKET_B), gateway.next()]

    async def scenario() -> list[dict[str, Any]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            await publish(broker.port, *sealed(gateway, *envelopes))
            return await acks.wait_count(3)

    entries = run(scenario)
    assert [(e["seq"], e["status"], e["code"]) for e in entries] == [
        (1, "stored", None), (2, "rejected", "wrong_site"), (3, "stored", None)]
    assert lims.scalar("SELECT count(*) FROM envelopes WHERE site_id = :s", s=MARKET_B["id"]) == 0
    assert [entry["seq"] for entry in _wrong_site_audit(lims)] == [2]


def test_heartbeat_naming_another_site_is_refused_and_audited(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    refused = post(lims, gateway.gateway, beat(gateway, site=MARKET_B["id"]))
    assert refused.status_code == 403, refused.text
    assert "'yz-market-08'" in refused.json()["detail"] and "'yz-market-07'" in refused.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM gateway_heartbeats") == 0
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'heartbeat.wrong_site'") == 1
    own = post(lims, gateway.gateway, beat(gateway, site=gateway.site["id"]))
    assert own.status_code == 200, own.text
    assert lims.scalar("SELECT count(*) FROM gateway_heartbeats") == 1
