"""Faults on the link and in the instrument: each is logged clearly and no result is lost or doubled."""

from __future__ import annotations

import asyncio
import logging

import pytest

from modbus_support import CollectingSink, driver_for, running_driver, running_sim, wait_until

DRIVER_LOG = "drivers.modbus_profile"


def _deliver(profile: str, script: tuple[str | None, ...], *, rtu_link=None, results: int = 3, **driver_opts):
    """Run sim (with scripted reply faults) + driver until all results are acked; return the sink."""
    async def scenario() -> CollectingSink:
        async with running_sim(profile, rtu_link=rtu_link, script=script, slow_s=0.6) as sim:
            for _ in range(results):
                sim.instrument.add_result()
            sink = CollectingSink()
            async with running_driver(driver_for(sim, profile, **driver_opts), sink):
                await wait_until(lambda: len(sim.instrument.acked) == results, timeout=15)
            assert sorted(sim.instrument.acked) == list(range(1, results + 1))
            assert len(sink.stored) == results == len(set(sink.calls))
            return sink

    return asyncio.run(scenario())


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == DRIVER_LOG and r.levelno == level]


def test_bad_crc_is_logged_with_bytes_and_the_result_still_arrives(caplog, tmp_path):
    # identity, ready poll, then the block read's reply has a bad CRC
    caplog.set_level(logging.INFO, DRIVER_LOG)
    _deliver("gr100", (None, None, "bad_crc"), rtu_link=tmp_path / "gold.tty")
    warnings = _messages(caplog, logging.WARNING)
    assert any("gold-1 (GR-100 on rtu:" in m and "reading holding 200..233" in m
               and "not a valid reply (bad CRC" in m and "attempt 1 of 2" in m for m in warnings), warnings


def test_line_noise_before_replies_loses_nothing(caplog, tmp_path):
    _deliver("huaxin-cg8", ("noise", "noise", "noise", None, "noise"), rtu_link=tmp_path / "gold.tty")


def test_absent_replies_time_out_then_the_driver_reconnects(caplog, tmp_path):
    caplog.set_level(logging.INFO, DRIVER_LOG)
    _deliver("gr100", (None, "absent", "absent"), rtu_link=tmp_path / "gold.tty")
    errors = _messages(caplog, logging.ERROR)
    assert any("reading holding 101..101: no reply within 0.25 s (after 2 attempts)" in m
               and "reconnecting" in m for m in errors), errors
    assert sum("connected:" in m for m in _messages(caplog, logging.INFO)) >= 2


@pytest.mark.parametrize("rtu", [False, True])
def test_disconnect_mid_frame_reconnects(caplog, rtu, tmp_path):
    caplog.set_level(logging.INFO, DRIVER_LOG)
    _deliver("gr100", (None, None, "disconnect"), rtu_link=tmp_path / "gold.tty" if rtu else None)
    errors = _messages(caplog, logging.ERROR)
    assert any("reading holding 200..233" in m and "reconnecting" in m for m in errors), errors
    assert sum("connected:" in m for m in _messages(caplog, logging.INFO)) >= 2


def test_slow_reply_on_tcp_is_retried(caplog):
    caplog.set_level(logging.INFO, DRIVER_LOG)
    _deliver("huaxin-cg8", (None, None, "slow"), retries=2)


def test_duplicate_presentation_is_not_stored_twice(caplog):
    async def scenario() -> None:
        async with running_sim("gr100") as sim:
            sim.instrument.duplicate_rate = 1.0  # ignore the first ack: result 1 shows up again
            sim.instrument.add_result()
            sim.instrument.add_result()
            sink = CollectingSink()
            async with running_driver(driver_for(sim, "gr100"), sink):
                await wait_until(lambda: sim.instrument.ignored_acks != [])  # result 1's ack was ignored
                sim.instrument.duplicate_rate = 0.0
                await wait_until(lambda: len(sim.instrument.acked) == 2)
            assert len(sink.calls) == 2 == len(sink.stored)

    caplog.set_level(logging.INFO, DRIVER_LOG)
    asyncio.run(scenario())
    assert any("presented again" in m for m in _messages(caplog, logging.INFO))


def test_instrument_clock_ahead_is_flagged():
    from datetime import timedelta

    async def scenario() -> CollectingSink:
        async with running_sim("huaxin-cg8") as sim:
            sim.instrument.clock_skew = timedelta(hours=3)
            sim.instrument.add_result()
            sink = CollectingSink()
            async with running_driver(driver_for(sim, "huaxin-cg8"), sink):
                await sink.wait_for(lambda: len(sink.stored) == 1)
            return sink

    (result,) = asyncio.run(scenario()).stored.values()
    assert "instrument_clock_ahead" in result.qc.flags


def test_sink_failure_leaves_the_result_on_the_instrument(caplog):
    async def scenario() -> None:
        async with running_sim("gr100") as sim:
            sim.instrument.add_result()
            sink = CollectingSink()
            failures = [RuntimeError("disk full")]

            async def flaky(result, key):
                if failures:
                    raise failures.pop()
                return await sink(result, key)

            async with running_driver(driver_for(sim, "gr100"), flaky):  # type: ignore[arg-type]
                await wait_until(lambda: sim.instrument.acked == [1])
            assert list(sink.stored) and len(sink.calls) == 1

    caplog.set_level(logging.INFO, DRIVER_LOG)
    asyncio.run(scenario())
    assert any("could not build or commit result" in m for m in _messages(caplog, logging.ERROR))
