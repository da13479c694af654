"""The instrument's memory of unacknowledged channel results (doc §10.2); not thread-safe on its own."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from ._runs import RunPlan

MAX_BACKOFF = 12
"""The wait between unanswered automatic re-sends doubles up to this many ack timeouts."""


@dataclass
class _Kept:
    plan: RunPlan
    unacked: set[int]
    due: float = math.inf  # monotonic time of the next automatic re-send; inf while on the wire
    unanswered: int = 0  # automatic re-sends since the last acknowledgement of this run


class UnackedRuns:
    """Runs with unacknowledged channels, oldest first, at most ``keep`` of them."""

    def __init__(self, keep: int, ack_timeout: float) -> None:
        if keep < 1 or ack_timeout <= 0:
            raise ValueError(f"keep {keep} must be >= 1 and ack_timeout {ack_timeout} > 0")
        self.keep_runs = keep
        self.ack_timeout = ack_timeout
        self._runs: OrderedDict[int, _Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._runs)

    def keep(self, plan: RunPlan) -> list[tuple[int, tuple[int, ...]]]:
        """Remember a run about to be sent (no-op if already kept); return runs evicted to make room."""
        evicted = []
        if plan.run not in self._runs:
            self._runs[plan.run] = _Kept(plan, {ch.channel for ch in plan.channels})
            while len(self._runs) > self.keep_runs:
                run, kept = self._runs.popitem(last=False)
                evicted.append((run, tuple(sorted(kept.unacked))))
        self._runs[plan.run].due = math.inf  # the newest run is never the one evicted
        return evicted

    def start_resend(self, run: int) -> tuple[int, ...]:
        """Channels to re-send now (none if the run was acknowledged meanwhile); holds its timer."""
        kept = self._runs.get(run)
        if kept is None:
            return ()
        kept.due = math.inf
        return tuple(sorted(kept.unacked))

    def sent(self, run: int, now: float, automatic: bool) -> None:
        """A transmission of ``run`` ended at ``now``: arm the timer (backing off after automatic re-sends)."""
        kept = self._runs.get(run)
        if kept is None:
            return
        kept.unanswered = kept.unanswered + 1 if automatic else 0
        kept.due = now + self.ack_timeout * min(2**kept.unanswered, MAX_BACKOFF)

    def ack(self, run: int, channel: int) -> bool:
        """Forget one channel result (a run with none left is forgotten); False if it was not kept."""
        kept = self._runs.get(run)
        if kept is None or channel not in kept.unacked:
            return False
        kept.unacked.discard(channel)
        kept.unanswered = 0
        if not kept.unacked:
            del self._runs[run]
        return True

    def due(self, now: float) -> list[RunPlan]:
        """Runs whose ack timeout has expired, oldest first."""
        return [kept.plan for kept in self._runs.values() if kept.due <= now]

    def all(self) -> list[RunPlan]:
        """Every kept run, oldest first (what a ``$Q`` asks for)."""
        return [kept.plan for kept in self._runs.values()]

    def next_due(self) -> float:
        """The earliest re-send time (inf when nothing is waiting)."""
        return min((kept.due for kept in self._runs.values()), default=math.inf)

    def unacked(self) -> dict[int, tuple[int, ...]]:
        """Run number -> its unacknowledged channels."""
        return {run: tuple(sorted(kept.unacked)) for run, kept in self._runs.items()}
