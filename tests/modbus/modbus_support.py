"""Shared pieces of the Modbus tests: gateway context, a deduplicating sink, simulator and driver runners."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from drivers.base import DriverContext
from drivers.modbus_profile import ModbusProfileDriver
from firmware_sim.gold import FaultPlan, GoldInstrument, SimConfig, build_instrument, load, start_service
from protocols.result import Site, TestResult

CST = timezone(timedelta(hours=8))


def gateway_context() -> DriverContext:
    return DriverContext(site=Site(id="yz-market-01", kind="market", name="解放碑农贸市场"),
                         instrument_id="gold-1", operator="tech-07", clock=lambda: datetime.now(CST))


@dataclass
class CollectingSink:
    """Stands in for the outbox: stores a result once per source key, like the real sink."""

    stored: dict[str, TestResult] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, result: TestResult, source_key: str | None) -> bool:
        assert source_key is not None
        self.calls.append(source_key)
        self.changed.set()
        if source_key in self.stored:
            return False
        self.stored[source_key] = result
        return True

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait (on sink activity) until ``predicate()`` holds; fail after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.01) -> None:
    """Poll a condition of another component (instrument state) until it holds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(step)


@dataclass
class RunningSim:
    instrument: GoldInstrument
    plan: FaultPlan
    address: str
    server: Any


@contextlib.asynccontextmanager
async def running_sim(profile: str, *, rtu_link: Path | None = None, script: tuple[str | None, ...] = (),
                      slow_s: float = 1.0, seed: int = 1, first_sequence: int = 1) -> AsyncIterator[RunningSim]:
    """A simulator serving TCP on a free port (or RTU on a pty at ``rtu_link``) in this event loop."""
    config = SimConfig(profile=load(profile), tcp=None if rtu_link else ("127.0.0.1", 0),
                       rtu_link=str(rtu_link) if rtu_link else None, seed=seed, script=script, slow_s=slow_s,
                       first_sequence=first_sequence)
    instrument = build_instrument(config)
    server, address = await start_service(config, instrument)
    try:
        yield RunningSim(instrument, server.plan, address, server)
    finally:
        await server.shutdown()


def driver_for(sim: RunningSim, profile: str, **extra: Any) -> ModbusProfileDriver:
    """A driver pointed at ``sim`` with test-fast timings."""
    options: dict[str, Any] = {"profile": profile, "poll_interval_s": 0.02, "timeout_s": 0.25,
                               "retries": 1, "reconnect_s": 0.05}
    if sim.address.startswith("127.0.0.1:"):
        options |= {"transport": "tcp", "host": "127.0.0.1", "port": int(sim.address.rsplit(":", 1)[1])}
    else:
        options |= {"transport": "rtu", "port": sim.address, "baudrate": 19200}
    options |= extra
    return ModbusProfileDriver(options, gateway_context())


@contextlib.asynccontextmanager
async def running_driver(driver: ModbusProfileDriver, sink: CollectingSink) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(driver.run(sink))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        assert task.done(), "the driver did not stop when cancelled"
        with contextlib.suppress(asyncio.CancelledError):
            await task
