"""The FS-Q8's E1381 sender over a file descriptor: ENQ, frames, resends on NAK, EOT, with faults.

Blocking I/O with select timeouts, meant to run in its own thread (tests) or the CLI's main thread.
A message that is not delivered (no reply, retries used up) stays queued and is sent again later.
"""

from __future__ import annotations

import os
import random
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..clock import china_local_now
from . import faults as fl
from .encoder import ACK, ENQ, EOT, NAK, frame_message
from .measurements import SimItem, SimMessage, generate_message

OVERSIZE_BYTES = 1_200_000
"""Padding of an ``oversize`` fault message: above a host's usual 1 MiB message cap."""


@dataclass(frozen=True)
class Timings:
    """E1381 timers (seconds) and retry limit; tests shrink them."""

    reply_timeout_s: float = 15.0
    busy_wait_s: float = 10.0
    contention_wait_s: float = 1.0
    max_retries: int = 6
    stall_s: float = 35.0
    interval_s: float = 5.0


@dataclass
class SimStats:
    """What the instrument saw and did, readable from other threads (wait with ``wait``)."""

    enq_sent: int = 0
    frames_sent: int = 0
    naks: int = 0
    contentions: int = 0
    final_acks: int = 0
    failed_transfers: int = 0
    delivered: list[SimMessage] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def bump(self, name: str, amount: int = 1) -> None:
        """Add to counter ``name`` and wake waiters."""
        with self.condition:
            setattr(self, name, getattr(self, name) + amount)
            self.condition.notify_all()

    def wait(self, predicate: Callable[[SimStats], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` or ``timeout``; returns the predicate's last value."""
        with self.condition:
            return self.condition.wait_for(lambda: predicate(self), timeout)


class _Failed(Exception):
    """The transfer was given up (no reply or retries used up)."""


class AstmInstrument:
    """Sends generated messages over ``fd`` until ``stop`` is set or ``messages`` were delivered."""

    def __init__(self, fd: int, *, items: list[SimItem], seed: int = 0, timings: Timings = Timings(),
                 faults: tuple[str, ...] = (), fault_rate: float = 0.0, messages: int = 0,
                 oversize_bytes: int = OVERSIZE_BYTES, clock: Callable[[], datetime] = china_local_now) -> None:
        self.fd, self.items, self.timings = fd, items, timings
        self.faults, self.fault_rate, self.messages = faults, fault_rate, messages
        self.oversize_bytes = oversize_bytes
        self.rng = random.Random(seed)
        self.clock = clock
        self.stats = SimStats()
        self.stop = threading.Event()
        self._inbox = bytearray()

    def run(self) -> None:
        """Deliver messages one by one, ``interval_s`` apart, until stopped or ``messages`` delivered."""
        number = 0
        while not self.stop.is_set() and not (self.messages and len(self.stats.delivered) >= self.messages):
            number += 1
            kind = fl.pick(self.rng, self.faults, self.fault_rate)
            message = generate_message(self.rng, number, self.items, self.clock(), clock_skew=fl.skew(self.rng, kind))
            plan = fl.place(self.rng, kind, len(frame_message(message.records)))
            while not self.stop.is_set() and not self.deliver(message, plan):
                plan = fl.MessageFaults()  # a retried message goes out clean
                self.stop.wait(self.timings.interval_s)
            self.stop.wait(self.timings.interval_s)

    def deliver(self, message: SimMessage, plan: fl.MessageFaults = fl.MessageFaults()) -> bool:
        """One transfer of ``message``: True when every frame was ACKed."""
        records = fl.oversize(message.records, self.oversize_bytes) if plan.kind == "oversize" else message.records
        frames = frame_message(records)
        try:
            self._establish()
            for index, frame in enumerate(frames):
                self._send_frame(index, frame, plan, final=index == len(frames) - 1)
        except _Failed:
            self.stats.bump("failed_transfers")
            return False
        if plan.kind != "lost_eot":
            self._write(EOT)
        with self.stats.condition:
            self.stats.delivered.append(message)
            self.stats.condition.notify_all()
        return True

    def _establish(self) -> None:
        attempts = 0
        while True:
            self._write(ENQ)
            self.stats.bump("enq_sent")
            reply = self._reply()
            if reply == ACK:
                return
            if reply == ENQ:  # contention: the instrument has priority, waits, then sends ENQ again
                self.stats.bump("contentions")
                self._pause(self.timings.contention_wait_s)
                continue
            attempts += 1  # NAK = receiver busy
            if attempts > self.timings.max_retries:
                raise _Failed
            self._pause(self.timings.busy_wait_s)

    def _send_frame(self, index: int, frame: bytes, plan: fl.MessageFaults, final: bool) -> None:
        if plan.hits("noise", index):
            self._write(fl.noise(self.rng))
        if plan.hits("stall", index):
            self._pause(self.timings.stall_s)
        data = fl.corrupt(frame) if plan.hits("bad_checksum", index) else frame
        for _ in range(self.timings.max_retries + 1):
            self._write(data)
            self.stats.bump("frames_sent")
            if self._reply() != NAK:  # ACK, or EOT (receiver interrupt, treated as ACK)
                break
            self.stats.bump("naks")
            data = frame
        else:
            self._give_up()
        if final:
            self.stats.bump("final_acks")
        if plan.hits("duplicate", index):
            self._write(frame)
            self._reply()

    def _reply(self) -> bytes:
        """The next ACK/NAK/ENQ/EOT from the host; no reply in time -> EOT and give up."""
        deadline = time.monotonic() + self.timings.reply_timeout_s
        while not self.stop.is_set():
            for i, byte in enumerate(self._inbox):
                if bytes((byte,)) in (ACK, NAK, ENQ, EOT):
                    del self._inbox[: i + 1]
                    return bytes((byte,))
            self._inbox.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if readable:
                try:
                    self._inbox += os.read(self.fd, 1024)
                except OSError:
                    self.stop.wait(0.05)  # host side not open (pty hangup); keep waiting
        self._give_up()
        raise AssertionError("unreachable")

    def _give_up(self) -> None:
        self._write(EOT)
        raise _Failed

    def _pause(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise _Failed

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
