"""Polling and the gateway killer: SIGKILL at seeded random moments, restart, count the kills."""

from __future__ import annotations

import os
import random
import signal
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from kuaijian.demo import start_gateway
from gateway.errors import OutboxError
from gateway.outbox import OutboxCounts, read_counts
from kuaijian.procs import Child

POLL_S = 0.05
_EMPTY = OutboxCounts(pending=0, delivered=0, rejected=0, last_seq=0, last_delivered_at=None)


def poll_until(predicate: Callable[[], bool], timeout: float, *, tick: Callable[[], None] = lambda: None,
               alive: Callable[[], list[Child]] = list) -> bool:
    """Poll ``predicate`` (calling ``tick`` each round) until true or ``timeout``; fail if an ``alive`` child died."""
    deadline = time.monotonic() + timeout
    while not predicate():
        tick()
        for child in alive():
            assert child.process.poll() is None, f"{child.name} exited ({child.process.returncode}): {child.log_path}"
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    return True


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, *,
               tick: Callable[[], None] = lambda: None, alive: Callable[[], list[Child]] = list) -> None:
    """:func:`poll_until`, failing the test on timeout."""
    assert poll_until(predicate, timeout, tick=tick, alive=alive), f"timed out after {timeout:.0f} s waiting for {what}"


def outbox_counts(outbox: Path) -> OutboxCounts:
    """The outbox's counts read-only (all zero before the daemon first created it)."""
    try:
        return read_counts(outbox) if outbox.exists() else _EMPTY
    except OutboxError:  # created but not yet initialised by a daemon killed at start-up
        return _EMPTY


@dataclass
class _Moment:
    """When the next kill happens: at a committed-seq threshold, or a delay after the (re)start."""

    seq_threshold: int | None
    delay_s: float


@dataclass
class GatewayKiller:
    """Owns the gateway process: kills it at planned moments, restarts it, records every incarnation."""

    config: Path
    outbox: Path
    logs: Path
    rng: random.Random
    thresholds: list[int]
    """Ascending committed-seq thresholds, one per planned kill."""
    started: list[Child] = field(default_factory=list)
    kills: int = 0
    _moment: _Moment | None = None
    _started_at: float = 0.0
    _seq_at_start: int = 0

    @classmethod
    def plan(cls, config: Path, outbox: Path, logs: Path, *, seed: int, kills: int, total: int) -> GatewayKiller:
        """``kills`` thresholds drawn from the first 80 % of ``total`` committed results."""
        rng = random.Random(seed)
        thresholds = sorted(rng.sample(range(20, int(total * 0.8)), kills))
        return cls(config, outbox, logs, rng, thresholds)

    @property
    def gateway(self) -> Child:
        return self.started[-1]

    @property
    def planned(self) -> int:
        return len(self.thresholds)

    def start(self) -> None:
        self.started.append(start_gateway(self.config, self.logs))
        self._started_at, self._seq_at_start = time.monotonic(), outbox_counts(self.outbox).last_seq
        self._moment = self._draw() if self.kills < self.planned else None

    def _draw(self) -> _Moment:
        """One kill in five comes at a random delay after start (start-up, reconnects, ``$Q`` re-sends)."""
        if self.rng.random() < 0.2:
            return _Moment(None, self.rng.uniform(0.05, 1.5))
        threshold = max(self.thresholds[self.kills], self._seq_at_start + self.rng.randint(1, 8))
        return _Moment(threshold, self.rng.uniform(0.0, 0.2))

    def tick(self) -> None:
        """Kill and restart the gateway if its planned moment has come."""
        moment = self._moment
        if moment is None:
            return
        if moment.seq_threshold is not None:
            if outbox_counts(self.outbox).last_seq < moment.seq_threshold:
                return
            moment.seq_threshold, self._started_at = None, time.monotonic()  # now wait the extra delay
        if time.monotonic() - self._started_at < moment.delay_s:
            return
        os.kill(self.gateway.process.pid, signal.SIGKILL)
        self.gateway.process.wait()
        self.kills += 1
        if self.rng.random() < 0.5:
            time.sleep(self.rng.uniform(0.0, 0.5))  # a random outage, not synchronisation
        self.start()

    def stop(self) -> None:
        """SIGTERM every gateway incarnation still running."""
        for child in self.started:
            child.stop()


def room_page_on_any_port(config: Path) -> None:
    """Let each gateway incarnation's room page take a free port (8780 may be another test's)."""
    data = tomllib.loads(config.read_text("utf-8"))
    data.setdefault("room_page", {})["port"] = 0
    config.write_text(tomli_w.dumps(data), "utf-8")
