"""The simulated EI-412 in ack mode (doc §10.2) on a real pty: keeps, re-sends, forgets, ignores."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.enzyme import EnzymeSimulator, HostAck, HostFrameRejected, RunPlan
from firmware_sim.enzyme._pending import UnackedRuns
from protocols.enzyme import ack_frame, query_frame

from .enzyme_support import HOST_REJECTED as REJECTED
from .enzyme_support import TIMEOUT, decode, read_until

SIM_LOGGER = "firmware_sim.enzyme.simulator"


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator:
    sims: list[EnzymeSimulator] = []

    def make(**options: object) -> EnzymeSimulator:
        sim = EnzymeSimulator(tmp_path / f"ei412-{len(sims)}", seed=9, channels=4, **options)
        sim.open()
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.close()


@pytest.fixture
def open_host(make_sim) -> Iterator:
    fds: list[int] = []

    def open_(sim: EnzymeSimulator) -> int:
        fds.append(os.open(sim.port, os.O_RDWR | os.O_NOCTTY))
        return fds[-1]

    yield open_
    for fd in fds:
        os.close(fd)


def wire(frames: list) -> bytes:
    return b"".join(frame for _, frame in frames)


def ack_all(fd: int, plan: RunPlan, channels: tuple[int, ...] | None = None) -> None:
    for channel in channels or [ch.channel for ch in plan.channels]:
        os.write(fd, ack_frame(plan.run, channel))


def test_an_unacked_run_is_resent_after_the_timeout_with_identical_frames(make_sim, open_host):
    sim = make_sim(ack_timeout=0.2)
    host, plan = open_host(sim), sim.plan_run()
    before = time.monotonic()
    sim.write_run(plan=plan)
    resend = plan.frames(resend={1, 2, 3, 4})
    stream = read_until(host, resend[-1][1])
    assert time.monotonic() - before >= 0.2
    assert stream.startswith(wire(plan.frames()) + wire(resend))
    assert resend[-1][1].startswith(f"$E,{plan.run},4,R*".encode())
    original, _ = decode(wire(plan.frames()))
    readings, errors = decode(wire(resend))
    assert errors == [] and [r.raw for r in readings] == [r.raw for r in original]
    assert sim.resent[0] == (plan.run, (1, 2, 3, 4))


def test_a_resend_carries_only_the_unacked_channels(make_sim, open_host):
    sim = make_sim(ack_timeout=0.2)
    host, plan = open_host(sim), sim.plan_run()
    sim.write_run(plan=plan)
    read_until(host, plan.frames()[-1][1])
    ack_all(host, plan, (1, 3))
    assert sim.wait_until(lambda: sim.unacked() == {plan.run: (2, 4)}, TIMEOUT)
    resend = wire(plan.frames(resend={2, 4}))
    stream = read_until(host, resend)
    readings, _ = decode(stream[stream.index(resend) :])
    assert [r.source_key for r in readings] == [f"EI412A0157:{plan.run}:{n}" for n in (2, 4)]
    assert (plan.run, (2, 4)) in sim.resent


def test_a_query_resends_every_kept_run_at_once_oldest_first(make_sim, open_host):
    sim = make_sim(ack_timeout=60)  # only the query can explain a re-send within TIMEOUT
    host, first, second = open_host(sim), sim.plan_run(), sim.plan_run()
    sim.write_run(plan=first)
    sim.write_run(plan=second)
    read_until(host, second.frames()[-1][1])
    ack_all(host, first, (2,))
    assert sim.wait_until(lambda: sim.unacked()[first.run] == (1, 3, 4), TIMEOUT)
    os.write(host, query_frame())
    expected = wire(first.frames(resend={1, 3, 4})) + wire(second.frames(resend={1, 2, 3, 4}))
    assert read_until(host, expected).endswith(expected)
    assert sim.resent == [(first.run, (1, 3, 4)), (second.run, (1, 2, 3, 4))]


def test_a_fully_acked_run_is_forgotten_and_never_resent(make_sim, open_host):
    sim = make_sim(ack_timeout=0.2)
    host, first, second = open_host(sim), sim.plan_run(), sim.plan_run()
    sim.write_run(plan=first)
    read_until(host, first.frames()[-1][1])
    ack_all(host, first)
    assert sim.wait_until(lambda: not sim.unacked(), TIMEOUT)
    acked_at = len(sim.resent)
    os.write(host, query_frame() + ack_frame(first.run, 1))  # a query and a second ack change nothing
    sim.write_run(plan=second)  # its own re-send comes after first's timer would have fired
    read_until(host, second.frames(resend={1, 2, 3, 4})[-1][1])
    assert sim.resent[acked_at:] == [(second.run, (1, 2, 3, 4))]
    assert all(run == second.run for run, _ in sim.resent[acked_at:])


def test_bad_host_frames_are_ignored_and_logged_and_the_next_ack_counts(make_sim, open_host, caplog):
    caplog.set_level(logging.WARNING, logger=SIM_LOGGER)
    sim = make_sim(ack_timeout=60)
    host, plan = open_host(sim), sim.plan_run()
    sim.write_run(plan=plan)
    os.write(host, b"".join(frame for _, frame in REJECTED) + ack_frame(plan.run, 1))
    assert sim.wait_until(lambda: len(sim.host_inputs) == len(REJECTED) + 1, TIMEOUT)
    assert sim.host_inputs[-1] == HostAck(plan.run, 1)
    assert all(isinstance(item, HostFrameRejected) for item in sim.host_inputs[:-1])
    assert sim.unacked() == {plan.run: (2, 3, 4)}
    ignored = [r for r in caplog.records if r.name == SIM_LOGGER and "ignored host bytes" in r.getMessage()]
    assert len(ignored) == len(REJECTED) and all(r.levelno == logging.WARNING for r in ignored)


def test_legacy_mode_ignores_the_host_and_keeps_nothing(make_sim, open_host):
    sim = make_sim(ack=False, ack_timeout=0.05)
    host, plan = open_host(sim), sim.plan_run()
    sim.write_run(plan=plan)
    read_until(host, plan.frames()[-1][1])
    sent = query_frame() + ack_frame(plan.run, 1)
    os.write(host, sent)
    assert sim.wait_until(lambda: sim.host_bytes == len(sent), TIMEOUT)
    assert (sim.host_inputs, sim.unacked(), sim.resent) == ([], {}, [])


def test_the_oldest_run_is_dropped_beyond_the_keep_limit(make_sim, caplog):
    caplog.set_level(logging.WARNING, logger=SIM_LOGGER)
    sim = make_sim(ack_timeout=60, keep_runs=2)
    plans = [sim.plan_run() for _ in range(3)]
    for plan in plans:
        sim.write_run(plan=plan)
    assert sim.evicted == [(plans[0].run, (1, 2, 3, 4))]
    assert list(sim.unacked()) == [plans[1].run, plans[2].run]
    assert any("dropped from memory" in r.getMessage() for r in caplog.records)


def test_unanswered_resends_back_off_to_twelve_timeouts_and_an_ack_resets(make_sim):
    plan = make_sim().plan_run()
    kept = UnackedRuns(keep=5, ack_timeout=1.0)
    kept.keep(plan)
    assert kept.next_due() == float("inf")  # no timer while the run is on the wire
    kept.sent(plan.run, 100.0, automatic=False)
    assert (kept.due(100.999), kept.due(101.0)) == ([], [plan])
    waits = []
    for _ in range(6):
        start = kept.next_due()
        assert kept.start_resend(plan.run) == (1, 2, 3, 4)
        kept.sent(plan.run, start, automatic=True)
        waits.append(kept.next_due() - start)
    assert waits == [2.0, 4.0, 8.0, 12.0, 12.0, 12.0]
    assert kept.ack(plan.run, 2) and not kept.ack(plan.run, 2)
    kept.sent(plan.run, 200.0, automatic=True)
    assert kept.next_due() == 202.0  # the ack reset the back-off
    for channel in (1, 3, 4):
        kept.ack(plan.run, channel)
    assert len(kept) == 0 and kept.start_resend(plan.run) == ()
