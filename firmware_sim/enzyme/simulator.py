"""A simulated EI-412 on a real pseudo-terminal: the host opens the slave like a serial port.

In ack mode (default) it keeps every channel result until the host acknowledges it and
re-sends unacknowledged runs after the ack timeout or on a ``$Q`` query (doc §10); in
legacy mode it reads and discards whatever the host sends.
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from ..clock import china_local_now
from ..pty import POLL_S, PtySimulator
from ._faults import FAULT_KINDS, Fault, FaultError, apply
from ._host import HostAck, HostFrameReader, HostFrameRejected, HostInput, HostQuery
from ._pending import UnackedRuns
from ._runs import ChannelTruth, FrameTag, RunPlan, random_plan, truths

logger = logging.getLogger(__name__)


class SimulatorClosed(RuntimeError):
    """The simulator was closed while (or before) writing."""


class EnzymeSimulator(PtySimulator):
    """Writes EI-412 runs to a pty master and, in ack mode, answers the host's ``$K``/``$Q`` frames."""

    closed_error = SimulatorClosed

    def __init__(
        self,
        link: str | os.PathLike[str] | None = None,
        *,
        channels: int = 4,
        seed: int | None = None,
        fault_rate: float = 0.0,
        fault_kinds: Iterable[str] = FAULT_KINDS,
        first_run: int = 1,
        serial: str = "EI412A0157",
        firmware: str = "2.3.1",
        clock: Callable[[], datetime] = china_local_now,
        ack: bool = True,
        ack_timeout: float = 5.0,
        keep_runs: int = 200,
        replay_every: int = 0,
    ) -> None:
        super().__init__(link)
        self.replay_every = replay_every
        """Every n-th run repeats the previous run's ΔA₀ and channel 1's ΔAₜ under a new sample code (0: never):
        the fraud of a reading passed off as another sample's test."""
        self._last_plan: RunPlan | None = None
        self.channels = channels
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise FaultError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        self.rng = random.Random(seed)
        self.identity = {"serial": serial, "firmware": firmware}
        self.clock = clock
        self.ack = ack
        self._next_run = first_run
        self._closed = threading.Event()
        self._wire = threading.Lock()  # one whole transmission at a time: runs never interleave
        self._state = threading.Condition()  # guards everything below
        self._kept = UnackedRuns(keep_runs, ack_timeout)
        self._queried: list[RunPlan] = []  # runs kept when a $Q arrived, not re-sent yet
        self.resent: list[tuple[int, tuple[int, ...]]] = []
        """Every automatic or queried re-send: (run, channels sent), in order."""
        self.evicted: list[tuple[int, tuple[int, ...]]] = []
        self.host_inputs: list[HostInput] = []
        """Every host frame (or rejected bytes) seen in ack mode, in order."""
        self.host_bytes = 0

    def _workers(self) -> dict[str, Callable[[], None]]:
        targets = [self._listen_to_host] + ([self._resend_when_due] if self.ack else [])
        return {f"ei412{t.__name__}": t for t in targets}

    def open(self) -> str:
        """Create the pty (slave in raw mode), the optional symlink, the host reader and the re-sender."""
        self._closed.clear()
        return super().open()

    def close(self) -> None:
        """Stop serving, remove the symlink and close the pty (the host sees the port vanish)."""
        self._closed.set()
        super().close()

    def stop(self) -> None:
        """Ask ``serve`` and ``wait_until_acked`` to return; a write blocked on a silent host gives up."""
        super().stop()
        with self._state:
            self._state.notify_all()

    @property
    def stopped(self) -> bool:
        """True once ``stop`` (or ``close``) was called."""
        return self._stop.is_set()

    def plan_run(self, channels: int | None = None) -> RunPlan:
        """A random run with the next run number (seeded, so reproducible)."""
        plan = random_plan(self.rng, self._next_run, channels or self.channels, self.clock, **self.identity)
        self._next_run = self._next_run % 999_999 + 1
        last, self._last_plan = self._last_plan, plan
        if self.replay_every and last is not None and plan.run % self.replay_every == 0:
            first = replace(plan.channels[0], sample_delta_a=last.channels[0].sample_delta_a,
                            sample_code=f"9{plan.run:05d}")
            plan = replace(plan, control_delta_a=last.control_delta_a, channels=(first, *plan.channels[1:]))
            self._last_plan = plan
        return plan

    def write_run(self, faults: Iterable[Fault] = (), plan: RunPlan | None = None) -> list[ChannelTruth]:
        """Send one run (a new random one unless ``plan`` is given) committing ``faults``.

        Frames without an explicit fault get a random one with probability ``fault_rate``.
        In ack mode the run is kept until acknowledged. Returns what was encoded per
        channel, with ``delivered`` telling which survived this first transmission.
        """
        plan = plan or self.plan_run()
        with self._wire:
            if self.ack:
                with self._state:
                    evicted = self._kept.keep(plan)
                    self.evicted += evicted
                for run, channels in evicted:
                    logger.warning("run %d dropped from memory with unacked channel(s) %s", run, list(channels))
            destroyed = self._transmit(plan.frames(), {fault.frame: fault.kind for fault in faults})
            self._sent(plan.run, automatic=False)
        return truths(plan, destroyed)

    def serve(
        self, interval: float, runs: int = 0, on_run: Callable[[list[ChannelTruth]], None] | None = None
    ) -> int:
        """Write a new run every ``interval`` s until ``runs`` are done (0 = forever) or stopped.

        ``on_run`` gets each new run's truths as soon as the run has been written.
        """
        done = 0
        while not self._stop.is_set() and (runs == 0 or done < runs):
            try:
                truth = self.write_run()
            except SimulatorClosed:
                break
            done += 1
            if on_run is not None:
                on_run(truth)
            if runs and done >= runs:
                break
            self._stop.wait(interval)
        return done

    def unacked(self) -> dict[int, tuple[int, ...]]:
        """Run number -> channels the host has not acknowledged yet (ack mode)."""
        with self._state:
            return self._kept.unacked()

    def wait_until_acked(self, timeout: float | None = None) -> bool:
        """Block until every kept result is acknowledged (True), or timeout / ``stop`` (False)."""
        with self._state:
            self._state.wait_for(lambda: not self._kept or self._stop.is_set(), timeout)
            return not self._kept

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds (True) or ``timeout`` s pass (False).

        The predicate runs under the simulator's lock, re-checked on every host input and transmission.
        """
        with self._state:
            return self._state.wait_for(predicate, timeout)

    def _transmit(self, frames: list[tuple[FrameTag, bytes]], chosen: dict[FrameTag, str]) -> set[FrameTag]:
        """Write frames, committing chosen or random faults; return the tags of destroyed frames."""
        destroyed: set[FrameTag] = set()
        for tag, frame in frames:
            kind = chosen.get(tag)
            if kind is None and self.fault_kinds and self.rng.random() < self.fault_rate:
                kind = self.rng.choice(self.fault_kinds)
            if kind is not None:
                frame, lost = apply(kind, frame, self.rng)
                if lost:
                    destroyed.add(tag)
            self.write_bytes(frame)
        return destroyed

    def _sent(self, run: int, automatic: bool) -> None:
        with self._state:
            self._kept.sent(run, time.monotonic(), automatic)
            self._state.notify_all()

    def _resend(self, plan: RunPlan, automatic: bool) -> None:
        """Send ``plan``'s header, control, still-unacknowledged channels and a marked end frame."""
        with self._wire:
            with self._state:
                channels = self._kept.start_resend(plan.run)
                if channels:
                    self.resent.append((plan.run, channels))
            if channels:
                self._transmit(plan.frames(resend=channels), {})
                self._sent(plan.run, automatic)

    def _next_batch(self) -> tuple[list[RunPlan], bool] | None:
        """Wait for runs to re-send: (runs, automatic?) — a query's runs first — or None once stopped."""
        with self._state:
            while not self._stop.is_set():
                if self._queried:
                    batch, self._queried = self._queried, []
                    return batch, False
                now = time.monotonic()
                if due := self._kept.due(now):
                    return due, True
                self._state.wait(min(self._kept.next_due() - now, 3600))
            return None

    def _resend_when_due(self) -> None:
        """Re-sender thread: re-send the runs kept when a query came, and each run whose ack timeout expired."""
        while (work := self._next_batch()) is not None:
            batch, automatic = work
            try:
                for plan in batch:
                    self._resend(plan, automatic)
            except SimulatorClosed:
                return

    def _listen_to_host(self) -> None:
        """Host reader thread: ack mode parses ``$K``/``$Q`` frames, legacy mode discards everything."""
        master, reader = self._master, HostFrameReader()
        while not self._closed.is_set():
            readable, _, _ = select.select([master], [], [], POLL_S)
            if not readable:
                continue
            data = os.read(master, 4096)
            with self._state:
                self.host_bytes += len(data)
                self._state.notify_all()
            if self.ack:
                for item in reader.feed(data):
                    self._on_host_input(item)

    def _on_host_input(self, item: HostInput) -> None:
        with self._state:
            self.host_inputs.append(item)
            if isinstance(item, HostAck):
                if not self._kept.ack(item.run, item.channel):
                    logger.info("ack for run %d channel %d which is not kept: ignored", item.run, item.channel)
            elif isinstance(item, HostQuery):
                self._queried += [plan for plan in self._kept.all() if plan not in self._queried]
            self._state.notify_all()
        if isinstance(item, HostFrameRejected):
            logger.warning("ignored host bytes %r: %s", item.data, item.reason)
