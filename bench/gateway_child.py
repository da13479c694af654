"""Contender B, the real gateway daemon: its config for the bench fleet, and the process that runs it.

``python -m bench.gateway_child CONFIG`` does what ``kuaijian gateway run --config CONFIG`` does once the
CLI has parsed its arguments (load the config, JSON logging to stderr, ``gateway.daemon.serve``) without
importing the CLI (typer, rich). ``--profile OUT`` runs it under cProfile and writes the stats to OUT
when stopped by SIGTERM. ``--spread N`` registers :class:`SpreadStartDriver` as ``modbus_profile`` so the
N instruments' first polls are spread over one poll interval (the same daemon and driver code after that).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import socket
from pathlib import Path

import tomli_w

from drivers import registry
from drivers.base import ResultSink
from drivers.modbus_profile import ModbusProfileDriver
from gateway.config import load_config
from gateway.daemon import serve
from gateway.keys import generate_key_file
from gateway.logging_setup import setup_json_logging


class SpreadStartDriver(ModbusProfileDriver):
    """The ``modbus_profile`` driver, started ``index / instruments`` of a poll interval late (bench only)."""

    instruments = 1

    async def run(self, sink: ResultSink) -> None:
        index = int(self.context.instrument_id.rsplit("-", 1)[1])
        await asyncio.sleep(index * self.config.poll_interval_s / self.instruments)
        await super().run(sink)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then released): the LIMS that is not running."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def write_config(workdir: Path, host: str, ports: list[int], *, poll_interval_s: float = 1.0) -> Path:
    """A gateway.toml in ``workdir`` with one GR-100 ``modbus_profile`` instrument per port."""
    workdir.mkdir(parents=True, exist_ok=True)
    key_file = workdir / "gateway.key"
    if not key_file.exists():
        generate_key_file(key_file)
    config = {
        "gateway": {"id": "gw-bench-01", "key_file": str(key_file), "outbox": str(workdir / "outbox.sqlite3"),
                    "operator": "bench"},
        "site": {"id": "bench-site", "kind": "market", "name": "bench"},
        "lims": {"transport": "http", "url": f"http://{host}:{closed_port(host)}"},
        "instruments": [
            {"id": f"gold-{index:03d}", "driver": "modbus_profile",
             "options": {"profile": "gr100", "transport": "tcp", "host": host, "port": port, "unit": 1,
                         "poll_interval_s": poll_interval_s}}
            for index, port in enumerate(ports)
        ],
    }
    path = workdir / "gateway.toml"
    path.write_text(tomli_w.dumps(config), "utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the gateway daemon (optionally under cProfile).")
    parser.add_argument("config", type=Path)
    parser.add_argument("--profile", type=Path, help="run under cProfile; write the pstats file here")
    parser.add_argument("--spread", type=int, metavar="N", help="spread the first polls of N instruments")
    args = parser.parse_args()
    if args.spread:
        SpreadStartDriver.instruments = args.spread
        registry.BUILTIN["modbus_profile"] = f"{__name__}:SpreadStartDriver"  # this module, as run
    loaded = load_config(args.config)
    setup_json_logging()
    if args.profile is None:
        serve(loaded)
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        serve(loaded)
    finally:
        profiler.disable()
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
