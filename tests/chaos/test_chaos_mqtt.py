"""The MQTT broker (a private mosquitto) is killed mid-stream and started again while the LIMS bridge runs: the
gateway and the bridge reconnect, unacked envelopes are published again, every reading is stored once."""

from __future__ import annotations

import pytest

from kuaijian.demo import free_port, start_gateway, stored_count
from kuaijian.procs import python_module, start

from ..crash.chaos import wait_until
from ..gateway.gw_mosquitto import MOSQUITTO, own_broker
from .harness import acked_through, final_count, gateway_config, gold_reader, outbox_of, wait_drained

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(300)]

RESULTS, PREFIX = 300, "kuaijian/v1"


@pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto is not installed")
def test_broker_killed_and_restarted_with_the_lims_bridge_running(tmp_path, logs, lims_process):
    port = free_port()
    (tmp_path / "broker").mkdir()
    broker = own_broker(tmp_path / "broker", port)
    bridge = start("lims-bridge", python_module("lims_api", "mqtt-bridge", "--db", lims_process.database.url,
                                                "--port", str(port), "--prefix", PREFIX), logs)
    reader = gold_reader(logs)
    sim = reader.start(RESULTS, interval_s=0.03)

    def over_mqtt(config: dict) -> None:
        config["lims"]["transport"] = "mqtt"
        config["lims"]["timeout_s"] = 3.0
        config["mqtt"] = {"host": "127.0.0.1", "port": port, "topic_prefix": PREFIX}

    config = gateway_config(tmp_path, lims_process, [reader.entry()], over_mqtt)
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    try:
        alive = lambda: [gateway, bridge]  # noqa: E731
        lims = lims_process.lims
        wait_until(lambda: stored_count(lims) >= 50, 90, "results through the broker", alive=alive)
        assert broker.process is not None
        broker.process.kill()  # killed, not stopped: what it had not persisted is gone
        broker.process.wait(10)
        held = stored_count(lims)
        broker.start()
        wait_until(lambda: stored_count(lims) >= held + 20, 90, "results through the restarted broker", alive=alive)
        wait_until(lambda: acked_through(sim, RESULTS), 120, "the reader's last result", alive=alive)
        wait_drained(lims_process, outbox, alive)
    finally:
        gateway.stop()
        sim.stop()
        bridge.stop()
        broker.stop()
    print(f"\nbroker killed after {held} stored, restarted; gateway and bridge reconnected")
    final_count(lims_process, tmp_path / "bundle", RESULTS)
