"""The ASTM driver over TCP (an analyzer behind a serial server): same link layer, same results.

The simulated FS-Q8 listens like a serial server in TCP server mode; the driver connects to it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

from test_astm_driver import CONTEXT, FAST, Store, _delivered, _expected

from drivers.astm_quantitative import AstmQuantitativeDriver
from drivers.base import DriverConfigError
from firmware_sim.astm import ITEMS, AstmInstrument, TcpLink

import pytest


def test_messages_over_tcp_become_results_once_each_with_bad_frames_naked():
    link = TcpLink()
    host, port = link.address
    store = Store()
    sim = AstmInstrument(-1, items=list(ITEMS.values()), timings=FAST, seed=5, messages=5,
                         faults=("bad_checksum", "noise"), fault_rate=1.0)

    def instrument() -> None:
        sim.fd = link.accept(timeout=10)
        sim.run()

    async def scenario() -> None:
        driver = AstmQuantitativeDriver({"transport": "tcp", "host": host, "port": port, "receive_timeout_s": 0.4},
                                        CONTEXT)
        states: list[bool] = []
        driver.link_listener = lambda up, reason: states.append(up)
        thread = threading.Thread(target=instrument, daemon=True)
        thread.start()
        task = asyncio.create_task(driver.run(store))
        try:
            await _delivered(sim, 5)
            assert states[:1] == [True]
        finally:
            sim.stop.set()
            task.cancel()
            await asyncio.wait([task], timeout=5)
            await asyncio.to_thread(thread.join, 5)
            link.close()

    asyncio.run(scenario())
    assert sim.stats.naks >= 1
    assert {k: r.verdict for k, r in store.results.items()} == _expected(sim.stats.delivered)
    assert store.duplicates == []
    assert {r.raw.transport for r in store.results.values()} == {"astm"}


def test_no_serial_server_listening_is_a_link_down_with_the_reason():
    link = TcpLink()
    host, port = link.address
    link.close()  # nothing listens there now
    reasons: list[str | None] = []

    async def scenario() -> None:
        driver = AstmQuantitativeDriver({"transport": "tcp", "host": host, "port": port, "reconnect_s": 0.02,
                                         "reconnect_max_s": 0.05}, CONTEXT)
        assert driver.serial_device is None  # check-config has no device to look for
        driver.link_listener = lambda up, reason: reasons.append(None if up else reason)
        task = asyncio.create_task(driver.run(Store()))
        try:
            async with asyncio.timeout(10):
                while len(reasons) < 3:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.wait([task], timeout=5)

    asyncio.run(scenario())
    assert all(reason is not None and reason.startswith(f"cannot open tcp://{host}:{port}: ") for reason in reasons)


@pytest.mark.parametrize(("options", "named"), [
    ({"transport": "tcp", "port": 4001}, "'host': required when transport is tcp"),
    ({"transport": "tcp", "host": "10.0.0.5", "port": "/dev/ttyS0"}, "'port': a TCP port number"),
    ({"port": 4001}, "'port': a serial device path when transport is serial"),
    ({"port": "/dev/ttyS0", "host": "10.0.0.5"}, "'host': only with transport"),
])
def test_transport_options_are_checked(options, named):
    with pytest.raises(DriverConfigError, match=named):
        AstmQuantitativeDriver(options, CONTEXT)


def test_simulator_command_line_serves_tcp():
    proc = subprocess.Popen([sys.executable, "-m", "firmware_sim", "astm", "--tcp", "127.0.0.1:0", "--messages", "1",
                             "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY" and ready[1].startswith("tcp://127.0.0.1:")
        port = int(ready[1].rsplit(":", 1)[1])
        store = Store()

        async def scenario() -> None:
            driver = AstmQuantitativeDriver({"transport": "tcp", "host": "127.0.0.1", "port": port}, CONTEXT)
            task = asyncio.create_task(driver.run(store))
            try:
                async with asyncio.timeout(20):
                    while not store.results:
                        await asyncio.sleep(0.02)
            finally:
                task.cancel()
                await asyncio.wait([task], timeout=5)

        asyncio.run(scenario())
        assert {r.instrument.model for r in store.results.values()} == {"FS-Q8"}
    finally:
        proc.terminate()
        proc.wait(10)
