"""Calibration due dates: results of an overdue instrument are flagged (and still sent), status and
heartbeat carry each instrument's ``calibration_due``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path

from msgspec.structs import replace
import pytest
from typer.testing import CliRunner

from firmware_sim.enzyme import EnzymeSimulator, HostQuery
from kuaijian.cli_gateway import gateway_app
from gateway.config import load_config
from gateway.daemon import Gateway
from gateway.health import Health
from protocols.wire.heartbeat import build_heartbeat
from gateway.outbox import OutboxCounts
from gateway.sink import CALIBRATION_OVERDUE_FLAG, flag_calibration_overdue
from gateway.uplink_base import UplinkStats
from protocols.result import TestResult

from .conftest import async_wait_until, config_data, result, write_config

INSTRUMENT_CLOCK = datetime(2027, 3, 2, 9, 30)
"""The simulated analyzers' own clock (local time, no zone: the driver adds its +08:00)."""
CHANNELS = 2


def at(stamp: str) -> TestResult:
    """Reading 1 tested at ``stamp`` (instrument local time with its offset)."""
    return replace(result(1), tested_at=stamp)


def test_flag_follows_the_instruments_own_date_and_is_added_once():
    due = date(2027, 3, 1)
    on_due_day = at("2027-03-01T23:59:59.000+08:00")
    assert flag_calibration_overdue(on_due_day, due) is on_due_day  # still in date on the due day itself
    next_day = at("2027-03-02T00:30:00.000+08:00")  # 2027-03-01 in UTC: the instrument's date counts
    flagged = flag_calibration_overdue(next_day, due)
    assert flagged.qc.flags == [CALIBRATION_OVERDUE_FLAG] and next_day.qc.flags == []
    assert flag_calibration_overdue(flagged, due).qc.flags == [CALIBRATION_OVERDUE_FLAG]
    assert flag_calibration_overdue(next_day, None) is next_day


def test_snapshot_and_heartbeat_carry_the_due_date_or_null():
    health = Health("gw-test-01", "http", UplinkStats())
    health.add_instrument("ei-01", "enzyme_inhibition", enabled=True, calibration_due=date(2027, 3, 1))
    health.add_instrument("ei-02", "enzyme_inhibition", enabled=True)
    snapshot = health.snapshot(OutboxCounts(0, 0, 0, 0, None), datetime.now().astimezone())
    document = build_heartbeat(snapshot, "0123456789abcdef", datetime.now().astimezone(), 30.0)
    assert [i["calibration_due"] for i in snapshot["instruments"]] == ["2027-03-01", None]
    assert [i["calibration_due"] for i in document["status"]["instruments"]] == ["2027-03-01", None]


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[dict[str, EnzymeSimulator]]:
    """Two EI-412 simulators on ptys whose clocks read ``INSTRUMENT_CLOCK``."""
    with ExitStack() as stack:
        yield {name: stack.enter_context(EnzymeSimulator(tmp_path / f"tty-{name}", seed=n, channels=CHANNELS,
                                                         serial=f"EI412A000{n}", clock=lambda: INSTRUMENT_CLOCK))
               for n, name in enumerate(("ei-01", "ei-02"), 1)}


def test_overdue_instrument_results_are_flagged_stored_and_sent(tmp_path, key_path, lims, simulators):
    """On the analyzers' 2027-03-02, ei-01 (due 2025-12-31) is overdue; ei-02 is due that very day: in date."""
    dues = {"ei-01": "2025-12-31", "ei-02": "2027-03-02"}
    instruments = [{"id": name, "driver": "enzyme_inhibition", "calibration_due": due,
                    "options": {"port": str(tmp_path / f"tty-{name}"), "reconnect_s": 0.05}}
                   for name, due in dues.items()]
    data = config_data(lims.url, instruments, heartbeat_s=0)
    data["gateway"].update(max_clock_skew_s=1e10, status_interval_s=0.05)  # the 2027 clock is not the point here
    data["room_page"] = {"enabled": False}  # no labels: no ``unlabelled`` flag either
    path = write_config(tmp_path, data)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(Gateway(load_config(path)).run(stop))
        try:
            for sim in simulators.values():  # the driver asks for unacked runs once it has the port open
                assert await asyncio.to_thread(sim.wait_until, lambda s=sim: _queried(s), 10), "driver never connected"
                await asyncio.to_thread(sim.write_run)
            assert await async_wait_until(lambda: len(lims.stored) == 2 * CHANNELS or task.done())
            for sim in simulators.values():  # acked: the gateway stored each reading
                assert await asyncio.to_thread(sim.wait_until_acked, 10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    flags = sorted((env["result"]["instrument"]["id"], env["result"]["tested_at"], tuple(env["result"]["qc"]["flags"]))
                   for env in lims.envelopes.values())
    assert flags == [("ei-01", "2027-03-02T09:30:00.000+08:00", (CALIBRATION_OVERDUE_FLAG,))] * CHANNELS + [
        ("ei-02", "2027-03-02T09:30:00.000+08:00", ())] * CHANNELS
    shown = CliRunner().invoke(gateway_app, ["status", "--config", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    assert {i["id"]: i["calibration_due"] for i in json.loads(shown.output)["instruments"]} == dues
    table = CliRunner().invoke(gateway_app, ["status", "--config", str(path)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "2025-12-31 OVERDUE" in table.output  # the table judges by today


def _queried(sim: EnzymeSimulator) -> bool:
    return any(isinstance(item, HostQuery) for item in sim.host_inputs)
