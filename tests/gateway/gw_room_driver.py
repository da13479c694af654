"""``python -m tests.gateway.gw_room_driver CONFIG``: the real daemon with a channel-1 driver that can SIGKILL it.

The driver sends readings 1..count on channel 1 with source keys, acks each to a file after the sink
returns, and with ``kill_after = n`` kills its own process (SIGKILL) right after reading n is
committed and before it is acked, once: the window where a label could be lost or bound twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from msgspec.structs import replace

from drivers import registry
from drivers.base import Driver, DriverContext, ResultSink
from gateway.config import load_config
from gateway.daemon import serve
from gateway.logging_setup import setup_json_logging

from .gw_fake_driver import make_result, read_ack, write_ack

DRIVER_NAME = "channel_one"
DRIVER_TARGET = "tests.gateway.gw_room_driver:ChannelOneDriver"


class ChannelOneDriver(Driver):
    """Options: ``count``, ``ack_file``, ``kill_after`` (0: never), ``interval_s``."""

    name = DRIVER_NAME

    def __init__(self, options: dict[str, object], context: DriverContext) -> None:
        super().__init__(options, context)
        self.count = int(str(options["count"]))
        self.ack_file = Path(str(options["ack_file"]))
        self.kill_after = int(str(options.get("kill_after", 0)))
        self.interval_s = float(str(options.get("interval_s", 0.0)))

    async def run(self, sink: ResultSink) -> None:
        ctx = self.context
        for n in range(read_ack(self.ack_file) + 1, self.count + 1):
            reading = make_result(ctx.site, ctx.instrument_id, ctx.operator, n, ctx.clock())
            await sink(replace(reading, channel=1), f"ch1:{n}")
            marker = self.ack_file.with_suffix(".killed")
            if n == self.kill_after and not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)  # committed, not acked: the instrument will send n again
            write_ack(self.ack_file, n)
            if self.interval_s:
                await asyncio.sleep(self.interval_s)  # instrument pacing, not synchronisation
        await asyncio.Event().wait()


if __name__ == "__main__":
    registry.BUILTIN[DRIVER_NAME] = DRIVER_TARGET
    setup_json_logging()
    serve(load_config(sys.argv[1]))
