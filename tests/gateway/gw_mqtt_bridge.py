"""A stand-in LIMS bridge for MQTT tests: envelopes in, one ack per envelope out.

It subscribes to ``{prefix}/+/envelopes`` (QoS 1, persistent session), verifies each envelope with
the HTTP stand-in LIMS's ingest code (protocols.envelope underneath) and publishes the answer entry
to ``{prefix}/{gateway}/acks`` with QoS 1. ``drop_first`` lists seqs whose first copy it ignores.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiomqtt

from protocols.wire import topics
from protocols.wire.paths import INGEST_PATH, NDJSON

from .gw_standin_lims import StandInLims

_quiet = logging.getLogger("tests.bridge.aiomqtt")
_quiet.setLevel(logging.ERROR)  # aiomqtt warns when > 10 publishes wait for PUBACK


class StandInBridge:
    def __init__(self, lims: StandInLims, port: int, prefix: str) -> None:
        self.lims = lims
        self.port = port
        self.prefix = prefix
        self.received = 0
        self.drop_first: set[int] = set()
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Serve until cancelled, reconnecting when the broker goes away."""
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.port, identifier=f"bridge-{self.prefix}",
                                          clean_session=False, logger=_quiet) as client:
                    await client.subscribe(topics.envelope_filter(self.prefix), qos=1)
                    self.connected.set()
                    async with asyncio.TaskGroup() as acks:  # ack concurrently, as a real bridge would
                        async for message in client.messages:
                            self._answer(client, message.payload, acks)
            except (aiomqtt.MqttError, ExceptionGroup):
                self.connected.clear()
                await asyncio.sleep(0.1)  # reconnect pacing

    def _answer(self, client: aiomqtt.Client, payload: object, acks: asyncio.TaskGroup) -> None:
        self.received += 1
        seq = json.loads(payload).get("seq") if isinstance(payload, bytes) else None
        if seq in self.drop_first:
            self.drop_first.discard(seq)
            return
        assert isinstance(payload, bytes)
        _, answer = self.lims.handle(INGEST_PATH, NDJSON, payload)
        entry = {k: v for k, v in answer["results"][0].items() if k != "line"}
        gateway = entry.get("gateway") or json.loads(payload).get("gateway")
        acks.create_task(client.publish(topics.GatewayTopics.of(self.prefix, gateway).acks, json.dumps(entry), qos=1))
