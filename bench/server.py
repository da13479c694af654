"""``python -m bench.server``: N simulated GR-100 readers, one pymodbus TCP server (port) each, in one process.

Prints ``{"ports": [...]}`` once every server listens, then answers stdin commands, one JSON line each:

- ``counts``: ``{"ready_reads": [...], "other_reads": [...], "writes": [...]}`` per reader since start
  (a *ready read* is the idle poll: FC03 of the one ready-flag register);
- ``results K``: queue one new result on each of the first K readers (the "results arrive" variant).

Exits on stdin EOF. Its CPU is not counted: it is a separate process from both contenders.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable

from firmware_sim.gold import FaultPlan, GoldInstrument, load
from firmware_sim.gold.tcp_server import GoldTcpServer


class ReadCounter:
    """Counts the requests one reader's register image serves, by kind."""

    def __init__(self, instrument: GoldInstrument) -> None:
        profile = instrument.profile
        self.ready_key = (3 if profile.ready_table == "holding" else 4, profile.ready_address, 1)
        self.ready_reads = 0
        self.other_reads = 0
        self.writes = 0
        image = instrument.image
        read, write = image.getValues, image.setValues
        image.getValues = self._counting_read(read)  # type: ignore[method-assign]
        image.setValues = self._counting_write(write)  # type: ignore[method-assign]

    def _counting_read(self, read: Callable[..., object]) -> Callable[..., object]:
        def counted(func_code: int, address: int, count: int = 1) -> object:
            if (func_code, address, count) == self.ready_key:
                self.ready_reads += 1
            else:
                self.other_reads += 1
            return read(func_code, address, count)
        return counted

    def _counting_write(self, write: Callable[..., object]) -> Callable[..., object]:
        def counted(func_code: int, address: int, values: list[int]) -> object:
            self.writes += 1
            return write(func_code, address, values)
        return counted


async def serve(instruments: int, profile_name: str, host: str) -> None:
    """Start the readers, print their ports, then obey stdin until EOF."""
    profile = load(profile_name)
    readers: list[GoldInstrument] = []
    counters: list[ReadCounter] = []
    servers: list[GoldTcpServer] = []
    for index in range(instruments):
        reader = GoldInstrument(profile, serial=f"BENCH{index:04d}", seed=index)
        counters.append(ReadCounter(reader))
        server = GoldTcpServer(reader, FaultPlan(), host=host, port=0, unit=1)
        await server.serve_forever(background=True)
        readers.append(reader)
        servers.append(server)
    _say({"ports": [server.bound_port for server in servers]})
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command, *args = line.split()
            if command == "counts":
                _say({"ready_reads": [c.ready_reads for c in counters],
                      "other_reads": [c.other_reads for c in counters],
                      "writes": [c.writes for c in counters]})
            elif command == "results":
                for reader in readers[: int(args[0])]:
                    reader.add_result()
                _say({"queued": int(args[0])})
            else:
                _say({"error": f"unknown command {command!r}"})
    finally:
        for server in servers:
            await server.shutdown()


def _say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=100)
    parser.add_argument("--profile", default="gr100")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    asyncio.run(serve(args.instruments, args.profile, args.host))


if __name__ == "__main__":
    main()
