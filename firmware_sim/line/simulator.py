"""A simulated line instrument on a real pseudo-terminal: the host opens the slave like a serial port.

It only talks: one line per reading, written from the profile's ``[simulator]`` table. Whatever the
host writes is read and discarded so the host never blocks.
"""

from __future__ import annotations

import dataclasses
import os
import random
import select
from collections.abc import Callable, Iterable
from datetime import datetime

from ..clock import china_local_now
from ..pty import POLL_S, PtySimulator
from ._faults import FAULT_KINDS, FaultError, apply
from ._plan import LineTruth, random_reading
from ._spec import LineSpec


class SimulatorClosed(RuntimeError):
    """The simulator was closed or stopped while (or before) writing."""


class LineSimulator(PtySimulator):
    """Writes profile-described lines to a pty master, committing faults on request or at random."""

    closed_error = SimulatorClosed

    def __init__(
        self,
        spec: LineSpec,
        link: str | os.PathLike[str] | None = None,
        *,
        seed: int | None = None,
        fault_rate: float = 0.0,
        fault_kinds: Iterable[str] = FAULT_KINDS,
        clock: Callable[[], datetime] = china_local_now,
    ) -> None:
        super().__init__(link)
        self.spec = spec
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        if unknown := set(self.fault_kinds) - set(FAULT_KINDS):
            raise FaultError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        self.rng = random.Random(seed)
        self.clock = clock
        self._number = 0

    def _workers(self) -> dict[str, Callable[[], None]]:
        return {"line-sim-drain": self._discard_host_bytes}

    def next_reading(self) -> LineTruth:
        """A new random reading (seeded, so reproducible) with the next sample number."""
        self._number += 1
        return random_reading(self.spec, self.rng, self._number, self.clock())

    def write_reading(self, fault: str | None = None, reading: LineTruth | None = None) -> LineTruth:
        """Send one reading (a new one unless given), committing ``fault`` or, with ``fault_rate``, a random one."""
        reading = reading or self.next_reading()
        if fault is None and self.fault_kinds and self.rng.random() < self.fault_rate:
            fault = self.rng.choice(self.fault_kinds)
        data, destroyed = (reading.line, False) if fault is None else apply(fault, self.spec, reading.line, self.rng)
        self.write_bytes(data)
        return dataclasses.replace(reading, delivered=not destroyed)

    def serve(self, interval: float, results: int = 0, on_result: Callable[[LineTruth], None] | None = None) -> int:
        """Write a reading every ``interval`` s until ``results`` are written (0 = forever) or stopped."""
        done = 0
        while not self._stop.is_set() and (results == 0 or done < results):
            try:
                truth = self.write_reading()
            except SimulatorClosed:
                break
            done += 1
            if on_result is not None:
                on_result(truth)
            if not (results and done >= results):
                self._stop.wait(interval)
        return done

    def _discard_host_bytes(self) -> None:
        master = self._master
        while not self._stop.is_set():
            readable, _, _ = select.select([master], [], [], POLL_S)
            if readable:
                try:
                    os.read(master, 4096)
                except OSError:  # no host has the slave open
                    self._stop.wait(POLL_S)
