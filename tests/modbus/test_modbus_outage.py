"""A Modbus instrument that goes away: one log line when it goes, one when it is back, backoff between.

Real pymodbus RTU simulator on a pty; it is shut down (the device path disappears) and a new one
started on the same path while the driver keeps polling.
"""

from __future__ import annotations

import asyncio
import logging

from modbus_support import CollectingSink, driver_for, running_sim, wait_until

LOGGERS = ("drivers.modbus_profile", "pymodbus")


def _lines(caplog, since: int) -> list[str]:
    return [f"{r.levelname} {r.getMessage()}" for r in caplog.records[since:]
            if r.name.startswith(LOGGERS) and r.levelno >= logging.INFO]


def test_device_away_gives_one_line_each_way_and_is_retried_with_backoff(caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    link = tmp_path / "gold.tty"
    calls: list[tuple[bool, str | None]] = []

    async def scenario() -> None:
        sink = CollectingSink()
        async with running_sim("gr100", rtu_link=link, seed=1) as sim:
            sim.instrument.add_result()
            driver = driver_for(sim, "gr100", reconnect_s=0.02, reconnect_max_s=0.1)
            driver.link_listener = lambda up, reason: calls.append((up, reason))
            task = asyncio.create_task(driver.run(sink))
            await sink.wait_for(lambda: len(sink.stored) == 1)
        try:
            outage_starts = len(caplog.records)
            await wait_until(lambda: sum(not up for up, _ in calls) >= 8, timeout=20)
            async with running_sim("gr100", rtu_link=link, seed=1, first_sequence=50) as again:
                again.instrument.add_result()
                await sink.wait_for(lambda: len(sink.stored) == 2, timeout=20)
            lines = _lines(caplog, outage_starts)
            assert len(lines) == 3, lines  # down, back up, the new result
            assert lines[0].startswith("ERROR gold-1 (GR-100 on rtu:") and "reconnecting with backoff" in lines[0]
            assert lines[1].startswith("INFO gold-1 (GR-100 on rtu:") and "connected:" in lines[1] and "serial GR100SIM0001" in lines[1]
            assert "s down, " in lines[1] and "failed attempt(s))" in lines[1]
            assert "committed" in lines[2]
        finally:
            task.cancel()
            await asyncio.wait({task}, timeout=5)

    asyncio.run(scenario())
    downs = [reason for up, reason in calls if not up]
    assert calls[0] == (True, None) and calls[-1] == (True, None)
    assert all(reason for reason in downs) and len(downs) >= 8


def test_absent_device_is_reported_down_with_the_reason(tmp_path):
    calls: list[tuple[bool, str | None]] = []

    async def scenario() -> None:
        async with running_sim("gr100", rtu_link=tmp_path / "other.tty") as sim:
            driver = driver_for(sim, "gr100", port=str(tmp_path / "ttyUSB9"), reconnect_s=0.02, reconnect_max_s=0.05)
        driver.link_listener = lambda up, reason: calls.append((up, reason))
        task = asyncio.create_task(driver.run(CollectingSink()))
        try:
            await wait_until(lambda: len(calls) >= 3, timeout=10)
        finally:
            task.cancel()
            await asyncio.wait({task}, timeout=5)

    asyncio.run(scenario())
    assert {up for up, _ in calls} == {False}
    assert all("cannot connect to rtu:" in str(reason) and "ttyUSB9" in str(reason) for _, reason in calls), calls
