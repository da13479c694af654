"""Config of the MQTT transport and the health options; the shared per-answer decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigError
from gateway.ingest_answer import judge
from gateway.outbox import StoredEnvelope

from .conftest import config_data


def parse(data: dict[str, object]):
    return parse_config(data, source=Path("/etc/kuaijian/gateway.toml"))


def test_mqtt_transport_defaults():
    data = config_data("http://x", [], transport="mqtt")
    data["lims"].pop("url")
    data["mqtt"] = {"host": "broker.local"}
    config = parse(data)
    assert (config.lims.transport, config.mqtt.port, config.mqtt.topic_prefix, config.mqtt.window) == (
        "mqtt", 1883, "kuaijian/v1", 200)
    assert config.mqtt_client_id() == "kuaijian-gw-test-01"
    assert (config.gateway.status_host, config.gateway.max_clock_skew_s) == ("127.0.0.1", 300.0)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["lims"].update(transport="mqtt"), '[mqtt] table is required when [lims] transport is "mqtt"'),
    (lambda d: d["lims"].pop("url"), 'lims: url is required when transport is "http"'),
    (lambda d: d.update(mqtt={"host": "b", "topic_prefix": "a/#"}), "mqtt.topic_prefix: must match pattern"),
    (lambda d: d.update(mqtt={"host": "b", "topic_prefix": "/kuaijian"}), "without a leading or trailing '/'"),
    (lambda d: d["lims"].update(transport="amqp"), "lims.transport: must be one of 'http', 'mqtt', got 'amqp'"),
])
def test_transport_errors_name_the_key(change, message):
    data = config_data("http://x", [])
    change(data)
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert any(message in issue for issue in caught.value.issues), caught.value.issues


STORED = StoredEnvelope(seq=4, result_id="r", source_key=None, text="{}", hash="a" * 64)


@pytest.mark.parametrize("entry, decision, error", [
    ({"status": "stored", "hash": "a" * 64}, "delivered", None),
    ({"status": "duplicate", "hash": None}, "delivered", None),
    ({"status": "duplicate", "hash": "b" * 64}, "rejected", "hash_mismatch: LIMS holds seq 4 with hash bbbb"),
    ({"status": "rejected", "code": "revoked_kid", "error": "x"}, "not_enrolled", "revoked_kid: "),
    ({"status": "rejected", "code": "fork", "error": "seq 4 stored with another hash"}, "rejected",
     "fork: seq 4 stored with another hash"),
    ({"status": "weird"}, "rejected", "unknown: weird"),
])
def test_one_rule_for_every_answer(entry, decision, error):
    outcome = judge(entry, STORED)
    assert outcome.decision == decision
    assert (outcome.error or "").startswith(error or "")
