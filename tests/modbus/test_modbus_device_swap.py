"""Another reader takes the unit's place on the RTU line while the driver polls: its results carry its
own serial and are stored, never dropped as the old reader's.

Real pymodbus RTU framing on a pty (firmware_sim's GR-100); the pty stays open across the swap, as
the USB-RS485 adapter does when a reader on the bus is exchanged.
"""

from __future__ import annotations

import asyncio

import pytest
from modbus_support import CollectingSink, driver_for, running_sim, wait_until

from firmware_sim.gold import SimConfig, build_instrument, load

OLD, NEW = "GR100SIM0001", "GR100SIM0002"


@pytest.mark.parametrize(("case", "first_sequence", "options"), [
    ("sequence_backwards", 1, {"identity_check_s": 3600}),
    ("silence", 100, {"identity_check_s": 3600}),
    ("periodic", 100, {"identity_check_s": 0}),
])
def test_swapped_reader_is_identified_again(tmp_path, case, first_sequence, options):
    async def scenario() -> CollectingSink:
        async with running_sim("gr100", rtu_link=tmp_path / "bus.tty", seed=1) as sim:
            for _ in range(2):
                sim.instrument.add_result()
            sink = CollectingSink()
            task = asyncio.create_task(driver_for(sim, "gr100", **options).run(sink))
            try:
                await sink.wait_for(lambda: len(sink.stored) == 2)
                await wait_until(lambda: sim.instrument.acked == [1, 2])
                newcomer = build_instrument(SimConfig(profile=load("gr100"), seed=2, first_sequence=first_sequence))
                if case == "silence":
                    sim.plan.script.append("absent")  # the swap: one request goes unanswered
                sim.server.replace_instrument(newcomer)
                newcomer.add_result()
                await sink.wait_for(lambda: len(sink.calls) == 3, timeout=15)
                await wait_until(lambda: newcomer.acked == [first_sequence], timeout=15)
            finally:
                task.cancel()
                await asyncio.wait({task}, timeout=5)
            return sink

    sink = asyncio.run(scenario())
    assert sink.calls == [f"{OLD}:1", f"{OLD}:2", f"{NEW}:{first_sequence}"]
    assert [r.instrument.serial for r in sink.stored.values()] == [OLD, OLD, NEW]
