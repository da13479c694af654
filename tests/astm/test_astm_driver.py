"""The driver end to end over a real pty, with the simulated FS-Q8 in a thread."""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

import pytest
from astm_support import expected_verdicts

from drivers.astm_quantitative import AstmQuantitativeDriver, load_limits
from drivers.base import DriverConfigError, DriverContext
from drivers.registry import build
from firmware_sim.astm import ITEMS, AstmInstrument, SimMessage, Timings, open_pty_link
from protocols.result import Site, TestResult

CONTEXT = DriverContext(site=Site(id="site-1", kind="market", name="渝中菜市场"), instrument_id="aq-01",
                        operator="tech-7", clock=lambda: datetime.now(timezone.utc))
FAST = Timings(reply_timeout_s=2.0, busy_wait_s=0.2, contention_wait_s=0.1, stall_s=0.8, interval_s=0.02)
LIMITS = load_limits(None)


class Store:
    """A sink like the outbox: keeps results, refuses a source key it already has."""

    def __init__(self, before: Callable[[TestResult], Awaitable[None]] | None = None) -> None:
        self.results: dict[str, TestResult] = {}
        self.duplicates: list[str] = []
        self.before = before

    async def __call__(self, result: TestResult, source_key: str | None) -> bool:
        assert source_key is not None
        if self.before:
            await self.before(result)
        if source_key in self.results:
            self.duplicates.append(source_key)
            return False
        self.results[source_key] = result
        return True


async def _run(sim_kwargs: dict, store: Store, body: Callable[[AstmInstrument], Awaitable[None]],
               options: dict | None = None) -> AstmInstrument:
    """Driver task on the pty's slave, simulator thread on its master; run ``body``; tear down."""
    link = open_pty_link()
    driver = AstmQuantitativeDriver({"port": link.path, "receive_timeout_s": 0.4, **(options or {})}, CONTEXT)
    task = asyncio.create_task(driver.run(store))
    sim = AstmInstrument(link.master_fd, items=list(ITEMS.values()), timings=sim_kwargs.pop("timings", FAST),
                         **sim_kwargs)
    thread = threading.Thread(target=sim.run, daemon=True)
    try:
        await asyncio.wait_for(driver.port_open.wait(), 5)
        thread.start()
        await body(sim)
    finally:
        sim.stop.set()
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=5)
        assert done, "the driver did not stop when cancelled"
        await asyncio.to_thread(thread.join, 5)
        link.close()
    return sim


async def _delivered(sim: AstmInstrument, count: int, timeout: float = 20) -> None:
    ok = await asyncio.to_thread(sim.stats.wait, lambda s: len(s.delivered) >= count, timeout)
    assert ok, f"only {len(sim.stats.delivered)} of {count} messages delivered"


def _expected(messages: list[SimMessage]) -> dict[str, str]:
    return expected_verdicts(messages, LIMITS)


def test_messages_become_test_results_with_our_verdicts():
    store = Store()

    async def body(sim: AstmInstrument) -> None:
        await _delivered(sim, 6)

    sim = asyncio.run(_run({"seed": 3, "messages": 6}, store, body))
    expected = _expected(sim.stats.delivered)
    assert {k: r.verdict for k, r in store.results.items()} == expected
    assert {"positive", "negative"} <= set(expected.values())
    assert store.duplicates == []
    first_message = sim.stats.delivered[0]
    reading = first_message.readings[0]
    result = store.results[f"Q8-230117:{first_message.sample_code}:{reading.completed_at:%Y%m%d%H%M%S}:NO2"]
    assert (result.test.item, result.test.method, result.test.kind, result.test.analyte) == (
        "亚硝酸盐", "GB 5009.33-2016", "quantitative", "NO2")
    assert (result.measurement.unit, result.measurement.cutoff) == ("mg/kg", 20.0)
    assert result.measurement.value == reading.value
    assert (result.instrument.model, result.instrument.serial, result.instrument.firmware) == (
        "FS-Q8", "Q8-230117", "2.1.0")
    assert (result.sample.id, result.sample.name, result.channel) == (
        first_message.sample_code, first_message.sample_name, first_message.channel)
    assert result.tested_at == reading.completed_at.strftime("%Y-%m-%dT%H:%M:%S.000+08:00")
    raw = base64.b64decode(result.raw.data)
    assert result.raw.transport == "astm" and raw.startswith(b"\x021H|\\^&|") and raw.endswith(b"\x03" + raw[-4:])
    assert raw.count(b"\x02") == len(first_message.records)


def test_bad_checksums_and_noise_are_survived_and_each_result_stored_once():
    store = Store()

    async def body(sim: AstmInstrument) -> None:
        await _delivered(sim, 6)

    sim = asyncio.run(_run({"seed": 5, "messages": 6, "faults": ("bad_checksum", "noise"), "fault_rate": 1.0},
                           store, body))
    assert sim.stats.naks >= 1
    assert sim.stats.frames_sent == sum(len(m.records) for m in sim.stats.delivered) + sim.stats.naks
    assert {k: r.verdict for k, r in store.results.items()} == _expected(sim.stats.delivered)
    assert store.duplicates == []


def test_stalls_duplicates_lost_eot_and_skew_lose_nothing_and_store_nothing_twice():
    store = Store()

    async def body(sim: AstmInstrument) -> None:
        await _delivered(sim, 6, timeout=30)

    timings = Timings(reply_timeout_s=0.5, busy_wait_s=0.2, contention_wait_s=0.1, stall_s=0.8, interval_s=0.02)
    sim = asyncio.run(_run({"seed": 11, "messages": 6, "timings": timings, "fault_rate": 1.0,
                            "faults": ("stall", "duplicate", "lost_eot", "clock_skew")}, store, body))
    assert sim.stats.failed_transfers >= 1  # at least one stall happened and was retried
    assert {k: r.verdict for k, r in store.results.items()} == _expected(sim.stats.delivered)
    assert store.duplicates == []


@pytest.mark.parametrize(("options", "named"), [({"max_message_bytes": 4096}, "max_message_bytes=4096 ("),
                                               ({"max_records": 20}, "max_records=20 (")])
def test_oversized_message_is_refused_whole_and_its_clean_resend_and_the_next_are_stored(options, named, caplog):
    caplog.set_level(logging.INFO, logger="drivers.astm_quantitative")
    store = Store()

    async def body(sim: AstmInstrument) -> None:
        await _delivered(sim, 3)

    # each message goes out first with ~8 kB of padding (27 records of 2 frames), then clean
    sim = asyncio.run(_run({"seed": 7, "messages": 3, "faults": ("oversize",), "fault_rate": 1.0,
                            "oversize_bytes": 8000}, store, body, {"receive_timeout_s": 5.0, **options}))
    assert sim.stats.failed_transfers == 3
    assert sim.stats.naks == 3 * (FAST.max_retries + 1)  # the frame over the cap, then its 6 resends
    assert {k: r.verdict for k, r in store.results.items()} == _expected(sim.stats.delivered)
    assert store.duplicates == []
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(refusals) == 3 and all(named in text and ", FN " in text for text in refusals), refusals
    assert not any("P" * 200 in c for r in store.results.values() for c in r.measurement.extra["comments"])  # not stored
    assert not any("P" * 200 in r.getMessage() for r in caplog.records)  # refused frames logged by length only


def test_final_ack_is_sent_only_after_the_sink_returned():
    release = asyncio.Event()
    entered = asyncio.Event()
    acks_seen_in_sink: list[int] = []
    sims: list[AstmInstrument] = []

    async def before(result: TestResult) -> None:
        acks_seen_in_sink.append(sims[0].stats.final_acks)
        entered.set()
        await release.wait()

    store = Store(before)

    async def body(sim: AstmInstrument) -> None:
        sims.append(sim)
        await asyncio.wait_for(entered.wait(), 10)
        acked = await asyncio.to_thread(sim.stats.wait, lambda s: s.final_acks >= 1, 0.5)
        assert not acked, "the instrument got the final ACK while the sink was still storing"
        release.set()
        await _delivered(sim, 1)

    timings = Timings(reply_timeout_s=5.0, busy_wait_s=0.2, contention_wait_s=0.1, interval_s=0.02)
    asyncio.run(_run({"seed": 2, "messages": 1, "timings": timings}, store, body))
    assert acks_seen_in_sink == [0] * len(ITEMS)
    assert len(store.results) == len(ITEMS)


def test_registry_builds_the_driver_and_bad_options_name_the_key(tmp_path):
    assert isinstance(build("astm_quantitative", {"port": "/dev/null"}, CONTEXT), AstmQuantitativeDriver)
    for options, key in [({}, "'port'"), ({"port": "x", "baudrate": 0}, "'baudrate'"),
                         ({"port": "x", "timezone": "CST"}, "'timezone'"), ({"port": "x", "bogus": 1}, "'bogus'"),
                         ({"port": "x", "limits": str(tmp_path / "missing.toml")}, "'limits'"),
                         ({"port": "x", "max_message_bytes": 0}, "'max_message_bytes'"),
                         ({"port": "x", "max_records": "many"}, "'max_records'"),
                         ({"port": "x", "sender_timeout_s": 0}, "'sender_timeout_s'")]:
        with pytest.raises(DriverConfigError, match=key):
            AstmQuantitativeDriver(options, CONTEXT)
    table = tmp_path / "limits.toml"
    table.write_text("[items.NO2]\nname='亚硝酸盐'\nlimit=5\nunit='mg/kg'\nfood='f'\nstandard='s'\nmethod='m'\n"
                     "source='x'\n", "utf-8")
    driver = AstmQuantitativeDriver({"port": "x", "limits": str(table), "timezone": "-03:30"}, CONTEXT)
    assert driver.limits["NO2"].limit == 5.0
    assert driver.config.tzinfo.utcoffset(None).total_seconds() == -3.5 * 3600
