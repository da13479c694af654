"""A simulated EI-412 on a real pseudo-terminal: the host opens the slave like a serial port."""

from __future__ import annotations

import os
import random
import select
import threading
import tty
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from ._faults import FAULT_KINDS, Fault, FaultError, apply
from ._runs import ChannelTruth, FrameTag, RunPlan, random_plan, truths

_POLL_S = 0.05


class SimulatorClosed(RuntimeError):
    """The simulator was closed while (or before) writing."""


class EnzymeSimulator:
    """Writes EI-412 runs to a pty master; reads and discards whatever the host sends."""

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
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.link = Path(link) if link is not None else None
        self.channels = channels
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise FaultError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        self.rng = random.Random(seed)
        self.identity = {"serial": serial, "firmware": firmware}
        self.clock = clock
        self._next_run = first_run
        self._master = self._slave = -1
        self.slave_name = ""
        self._closed = threading.Event()
        self._stop = threading.Event()
        self._discarder: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def port(self) -> str:
        """Path the host should open: the symlink if one was asked for, else the pty slave."""
        return str(self.link) if self.link is not None else self.slave_name

    def open(self) -> str:
        """Create the pty (slave in raw mode), the optional symlink and the discard thread."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.slave_name = os.ttyname(self._slave)
        if self.link is not None:
            staging = self.link.with_name(self.link.name + ".new")
            staging.unlink(missing_ok=True)
            staging.symlink_to(self.slave_name)
            os.replace(staging, self.link)
        self._closed.clear()
        self._stop.clear()
        self._discarder = threading.Thread(target=self._discard_host_bytes, name="ei412-discard", daemon=True)
        self._discarder.start()
        return self.port

    def close(self) -> None:
        """Stop serving, remove the symlink and close the pty (the host sees the port vanish)."""
        self._stop.set()
        self._closed.set()
        if self._discarder is not None:
            self._discarder.join()
            self._discarder = None
        if self.link is not None and self.link.is_symlink() and os.readlink(self.link) == self.slave_name:
            self.link.unlink()
        with self._lock:
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1

    def __enter__(self) -> EnzymeSimulator:
        self.open()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def stop(self) -> None:
        """Ask ``serve`` to return; a write blocked on a host that is not reading gives up."""
        self._stop.set()

    def plan_run(self, channels: int | None = None) -> RunPlan:
        """A random run with the next run number (seeded, so reproducible)."""
        plan = random_plan(self.rng, self._next_run, channels or self.channels, self.clock, **self.identity)
        self._next_run = self._next_run % 999_999 + 1
        return plan

    def write_run(self, faults: Iterable[Fault] = (), plan: RunPlan | None = None) -> list[ChannelTruth]:
        """Send one run (a new random one unless ``plan`` is given) committing ``faults``.

        Frames without an explicit fault get a random one with probability ``fault_rate``.
        Returns what was encoded per channel, with ``delivered`` telling which survived.
        """
        plan = plan or self.plan_run()
        chosen = {fault.frame: fault.kind for fault in faults}
        destroyed: set[FrameTag] = set()
        for tag, frame in plan.frames():
            kind = chosen.get(tag)
            if kind is None and self.fault_kinds and self.rng.random() < self.fault_rate:
                kind = self.rng.choice(self.fault_kinds)
            if kind is not None:
                frame, lost = apply(kind, frame, self.rng)
                if lost:
                    destroyed.add(tag)
            self.write_bytes(frame)
        return truths(plan, destroyed)

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

    def serve(self, interval: float, runs: int = 0) -> int:
        """Write a run every ``interval`` seconds until ``runs`` are done (0 = forever) or stopped."""
        done = 0
        while not self._stop.is_set() and (runs == 0 or done < runs):
            try:
                self.write_run()
            except SimulatorClosed:
                break
            done += 1
            if runs and done >= runs:
                break
            self._stop.wait(interval)
        return done

    def _discard_host_bytes(self) -> None:
        """The EI-412 ignores everything the host sends; drain it so the host never blocks."""
        master = self._master
        while not self._closed.is_set():
            readable, _, _ = select.select([master], [], [], _POLL_S)
            if readable:
                os.read(master, 4096)
