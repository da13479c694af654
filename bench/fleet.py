"""The simulated fleet (bench.server in a child process) and one measured contender run against it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .procstat import ProcSample, sample

ROOT = Path(__file__).resolve().parents[1]


class BenchError(Exception):
    """The benchmark itself could not run (a child failed, readers were not polled, ...)."""


class Fleet:
    """``bench.server`` running N readers; ask it for request counts or to queue results."""

    def __init__(self, instruments: int, host: str, log: IO[str]) -> None:
        self.host = host
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--instruments", str(instruments), "--host", host],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
        )
        self.ports: list[int] = self._answer()["ports"]

    def _answer(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise BenchError(f"the simulated fleet exited (code {self._proc.wait()}); see its log")
        return json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return self._answer()

    def ready_reads(self) -> list[int]:
        return self.ask("counts")["ready_reads"]

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@dataclass(frozen=True)
class Measured:
    """One contender over the measured window."""

    name: str
    polls: int
    readers_polled: int
    other_requests: int
    window_s: float
    cpu_s: float
    cpu_ticks_s: float
    rss_mb: float
    hwm_mb: float

    @property
    def cpu_ms_per_poll(self) -> float:
        return 1000 * self.cpu_s / self.polls if self.polls else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"contender": self.name, "polls": self.polls, "readers_polled": self.readers_polled,
                "other_requests": self.other_requests, "window_s": round(self.window_s, 3),
                "cpu_s": round(self.cpu_s, 4), "cpu_ticks_s": round(self.cpu_ticks_s, 3),
                "cpu_ms_per_poll": round(self.cpu_ms_per_poll, 4), "rss_mb": round(self.rss_mb, 1),
                "peak_rss_mb": round(self.hwm_mb, 1)}


def _counts(fleet: Fleet) -> tuple[list[int], int]:
    answer = fleet.ask("counts")
    return answer["ready_reads"], sum(answer["other_reads"]) + sum(answer["writes"])


def measure(name: str, command: list[str], fleet: Fleet, *, warmup_s: float, seconds: float, log: IO[str],
            results: int = 0) -> Measured:
    """Start ``command``; once every reader is polled and ``warmup_s`` passed, measure ``seconds``; stop it."""
    proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        _wait_all_polled(fleet, proc, name, timeout_s=30.0)
        _sleep_alive(proc, name, warmup_s)
        ready0, other0 = _counts(fleet)
        first = sample(proc.pid)
        if results:
            _sleep_alive(proc, name, seconds / 4)
            fleet.ask(f"results {results}")
            _sleep_alive(proc, name, seconds - (time.monotonic() - first.at))
        else:
            _sleep_alive(proc, name, seconds)
        last = sample(proc.pid)
        ready1, other1 = _counts(fleet)
    finally:
        _stop(proc)
    return _measured(name, first, last, ready0, ready1, other1 - other0)


def _measured(name: str, first: ProcSample, last: ProcSample, ready0: list[int], ready1: list[int],
              other: int) -> Measured:
    deltas = [after - before for before, after in zip(ready0, ready1, strict=True)]
    return Measured(name=name, polls=sum(deltas), readers_polled=sum(1 for d in deltas if d), other_requests=other,
                    window_s=last.at - first.at, cpu_s=last.cpu_s - first.cpu_s,
                    cpu_ticks_s=last.cpu_ticks_s - first.cpu_ticks_s, rss_mb=last.rss_mb, hwm_mb=last.hwm_mb)


def _wait_all_polled(fleet: Fleet, proc: subprocess.Popen[bytes], name: str, timeout_s: float) -> None:
    """Wait until every reader has served a ready read since ``proc`` started (the contender is up)."""
    before = fleet.ready_reads()
    deadline = time.monotonic() + timeout_s
    while True:
        _sleep_alive(proc, name, 0.5)
        now = fleet.ready_reads()
        idle = sum(1 for b, n in zip(before, now, strict=True) if n == b)
        if not idle:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{name}: {idle} of {len(now)} readers still not polled after {timeout_s:g} s")


def _sleep_alive(proc: subprocess.Popen[bytes], name: str, seconds: float) -> None:
    """Sleep ``seconds``; BenchError at once if the contender exits meanwhile."""
    try:
        code = proc.wait(timeout=max(0.0, seconds))
    except subprocess.TimeoutExpired:
        return
    raise BenchError(f"{name} exited early with code {code}; see its log")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
