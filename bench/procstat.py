"""CPU time and memory of another process, read from /proc (Linux)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    """One look at a process: when, CPU seconds so far, memory now and at peak."""

    at: float
    """``time.monotonic()`` of the sample."""
    cpu_s: float
    """user+sys of all its threads, from each thread's schedstat (ns resolution)."""
    cpu_ticks_s: float
    """user+sys from /proc/<pid>/stat (clock-tick resolution; includes exited threads): a cross-check."""
    rss_mb: float
    """VmRSS now."""
    hwm_mb: float
    """VmHWM: peak resident set since start."""


def _status_kb(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise ValueError(f"{key} missing from /proc status")


def _schedstat_s(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between listing and reading
    return total / 1e9


def sample(pid: int) -> ProcSample:
    """Sample process ``pid`` (raises FileNotFoundError when it is gone)."""
    at = time.monotonic()
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; field 3 (state) is index 0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    status = Path(f"/proc/{pid}/status").read_text()
    return ProcSample(at=at, cpu_s=_schedstat_s(pid), cpu_ticks_s=ticks / _TICKS,
                      rss_mb=_status_kb(status, "VmRSS") / 1024, hwm_mb=_status_kb(status, "VmHWM") / 1024)


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 "unknown")
    return {"cpu": model, "cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
