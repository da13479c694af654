"""CPU seconds and memory of a process tree, read from /proc; a command run with its tree sampled (``sampled``)."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def cpu_s(pid: int) -> float:
    """user+sys of one process (all its threads, living and exited), 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_mb(pids: list[int]) -> float:
    """Sum of VmRSS of ``pids`` (MB)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def snapshot(pids: list[int]) -> dict[int, float]:
    """CPU seconds by pid."""
    return {pid: cpu_s(pid) for pid in pids}


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots; a pid first seen in ``after`` started in between (counted from 0)."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def pss_mb(pids: list[int]) -> float:
    """Sum of proportional set sizes of ``pids`` (shared pages split between the processes mapping them), MB."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        total += next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)
    return total / 1024


@dataclass(frozen=True)
class Sampled:
    """A finished command: wall and CPU seconds of its tree, peaks of its summed RSS and PSS, its output."""

    wall_s: float
    cpu_s: float
    peak_rss_tree_mb: float
    peak_pss_tree_mb: float
    peak_rss_parent_mb: float
    output: str

    def figures(self, count: int) -> dict[str, float]:
        """Rate, CPU µs and peaks for ``count`` items."""
        return {"per_s": count / self.wall_s, "cpu_us": self.cpu_s / count * 1e6,
                "peak_rss_tree_mb": round(self.peak_rss_tree_mb, 1), "peak_pss_tree_mb": round(self.peak_pss_tree_mb, 1),
                "peak_rss_parent_mb": round(self.peak_rss_parent_mb, 1)}


def sampled(command: list[str], timeout_s: float = 3600) -> Sampled:
    """Run ``command``, its process tree sampled every 50 ms; CPU from the children's rusage. Raises
    RuntimeError (with the output's end) when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = peak_pss = peak_parent = 0.0
    while proc.poll() is None and time.monotonic() - started < timeout_s:
        pids = tree(proc.pid)
        peak, peak_parent = max(peak, rss_mb(pids)), max(peak_parent, rss_mb([proc.pid]))
        peak_pss = max(peak_pss, pss_mb(pids))
        time.sleep(0.05)  # sampling interval of the memory probe, not a synchronisation
    output = proc.communicate(timeout=60)[0].decode()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed: {output[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Sampled(wall, cpu, peak, peak_pss, peak_parent, output)
