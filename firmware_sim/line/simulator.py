"""A simulated line instrument on a real pseudo-terminal: the host opens the slave like a serial port.

It only talks: one line per reading, written from the profile's ``[simulator]`` table. Whatever the
host writes is read and discarded so the host never blocks.
"""

from __future__ import annotations

import dataclasses
import os
import random
import select
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from ..clock import china_local_now
from ..pty import close_pty, open_raw_pty
from ._faults import FAULT_KINDS, FaultError, apply
from ._plan import LineTruth, random_reading
from ._spec import LineSpec

_POLL_S = 0.05


class SimulatorClosed(RuntimeError):
    """The simulator was closed or stopped while (or before) writing."""


class LineSimulator:
    """Writes profile-described lines to a pty master, committing faults on request or at random."""

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
        self.spec = spec
        self.link = Path(link) if link is not None else None
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        if unknown := set(self.fault_kinds) - set(FAULT_KINDS):
            raise FaultError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        self.rng = random.Random(seed)
        self.clock = clock
        self._number = 0
        self._master = self._slave = -1
        self.slave_name = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._drain: threading.Thread | None = None

    @property
    def port(self) -> str:
        """Path the host should open: the symlink if one was asked for, else the pty slave."""
        return str(self.link) if self.link is not None else self.slave_name

    def open(self) -> str:
        """Create the pty (slave raw), the optional symlink and the thread discarding host bytes."""
        self._master, self._slave, self.slave_name = open_raw_pty(self.link)
        self._stop.clear()
        self._drain = threading.Thread(target=self._discard_host_bytes, name="line-sim-drain", daemon=True)
        self._drain.start()
        return self.port

    def close(self) -> None:
        """Stop, remove the symlink, close the pty."""
        self.stop()
        if self._drain is not None:
            self._drain.join()
            self._drain = None
        with self._lock:
            close_pty(self.link, self.slave_name, self._master, self._slave)
            self._master = self._slave = -1

    def __enter__(self) -> LineSimulator:
        self.open()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def stop(self) -> None:
        """Make ``serve`` return and a blocked write give up."""
        self._stop.set()

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

    def write_bytes(self, data: bytes) -> None:
        """Write raw bytes to the line, waiting while the host's receive buffer is full."""
        view = memoryview(data)
        while view:
            with self._lock:
                if self._master < 0:
                    raise SimulatorClosed("simulator is closed")
                _, writable, _ = select.select([], [self._master], [], 0)
                written = os.write(self._master, view) if writable else 0
            view = view[written:]
            if not written and self._stop.wait(_POLL_S):
                raise SimulatorClosed("simulator stopped while the host was not reading")

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
            readable, _, _ = select.select([master], [], [], _POLL_S)
            if readable:
                try:
                    os.read(master, 4096)
                except OSError:  # no host has the slave open
                    self._stop.wait(_POLL_S)
