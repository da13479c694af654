"""Run a simulated reader: instrument + TCP or RTU service + a cadence of new results."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

from .faults import FaultPlan
from .instrument import GoldInstrument
from .profile_data import SimProfile
from .rtu_server import GoldRtuServer
from .tcp_server import GoldTcpServer


@dataclass(frozen=True)
class SimConfig:
    profile: SimProfile
    unit: int = 1
    tcp: tuple[str, int] | None = None
    rtu_link: str | None = None
    interval_s: float = 5.0
    results: int = 0
    """How many results to produce; 0 = forever."""
    seed: int = 0
    faults: frozenset[str] = frozenset()
    fault_rate: float = 0.1
    slow_s: float = 2.0
    clock_skew_s: float = 3 * 3600.0
    serial: str | None = None
    first_sequence: int = 1
    script: tuple[str | None, ...] = field(default_factory=tuple)


def build_instrument(config: SimConfig) -> GoldInstrument:
    """The instrument the config describes (clock skew and duplicate faults applied)."""
    serial = config.serial or f"{config.profile.model.replace('-', '')}SIM{config.seed % 10000:04d}"
    return GoldInstrument(
        config.profile, serial=serial, seed=config.seed,
        clock_skew=timedelta(seconds=config.clock_skew_s if "clock_skew" in config.faults else 0.0),
        duplicate_rate=config.fault_rate if "duplicate" in config.faults else 0.0,
        first_sequence=config.first_sequence,
    )


def build_plan(config: SimConfig) -> FaultPlan:
    return FaultPlan(kinds=config.faults, rate=config.fault_rate, seed=config.seed,
                     script=deque(config.script), slow_s=config.slow_s)


async def start_service(config: SimConfig, instrument: GoldInstrument) -> tuple[GoldTcpServer | GoldRtuServer, str]:
    """Start serving; returns the server and the address to print (``host:port`` or the pty link)."""
    plan = build_plan(config)
    if config.tcp is not None:
        host, port = config.tcp
        tcp = GoldTcpServer(instrument, plan, host=host, port=port, unit=config.unit)
        await tcp.serve_forever(background=True)
        return tcp, f"{host}:{tcp.bound_port}"
    if config.rtu_link is None:
        raise ValueError("give a TCP address or an RTU link path")
    rtu = GoldRtuServer(instrument, plan, link_path=config.rtu_link, unit=config.unit)
    await rtu.start()
    return rtu, config.rtu_link


async def produce_results(config: SimConfig, instrument: GoldInstrument) -> None:
    """Queue a new random result every ``interval_s`` (the first at once) until ``results`` are made."""
    made = 0
    while config.results == 0 or made < config.results:
        instrument.add_result()
        made += 1
        if config.interval_s > 0:
            await asyncio.sleep(config.interval_s)
