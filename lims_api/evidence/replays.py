"""Stored results indexed by fingerprint, so each new result finds what it repeats in O(1) counts.

The replay rules (docs/evidence.md): a result repeats the raw bytes of every other result with the
same raw digest that claims a different sample or the same item; it repeats the raw values of every
other result with the same measurement key, a different sample and other raw bytes. Counts of each
rule come from a few per-key tallies (inclusion-exclusion), not from a scan of the known results.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass

Match = tuple["Known | None", int]
"""(the first matching result by envelope id, or None; how many results match)."""


@dataclass(frozen=True)
class Known:
    """Stored results sharing one fingerprint: the first of them, where it is, and how many there are."""

    envelope_id: int
    where: str
    raw: str
    measurement: str | None
    sample: str
    item: str
    count: int = 1


class Seen:
    """The known results of one flagging pass, tallied by raw digest and by measurement key."""

    def __init__(self) -> None:
        self._by_raw: defaultdict[str, list[Known]] = defaultdict(list)
        self._by_value: defaultdict[str, list[Known]] = defaultdict(list)
        self._tally: Counter[tuple[object, ...]] = Counter()

    def add(self, known: Known) -> None:
        """Count ``known`` in every tally it belongs to and keep it as a candidate first match."""
        r, m, s, n = known.raw, known.measurement, known.sample, known.count
        self.candidate(known)
        self._tally.update({("r", r): n, ("rs", r, s): n, ("rsi", r, s, known.item): n})
        if m is not None:
            self._tally.update({("m", m): n, ("ms", m, s): n, ("mr", m, r): n, ("mrs", m, r, s): n})

    def tally(self, name: tuple[object, ...], count: int) -> None:
        """Add ``count`` results to one tally (counted by the database)."""
        self._tally[name] += count

    def candidate(self, known: Known) -> None:
        """Keep ``known`` (in envelope-id order) as a possible first match, without counting it."""
        bisect.insort(self._by_raw[known.raw], known, key=lambda k: k.envelope_id)
        if known.measurement is not None:
            bisect.insort(self._by_value[known.measurement], known, key=lambda k: k.envelope_id)

    def other_samples(self, raw: str, sample: str) -> int:
        """How many results with these raw bytes claim another sample."""
        return self._tally[("r", raw)] - self._tally[("rs", raw, sample)]

    def raw_count(self, raw: str, sample: str, item: str) -> int:
        """How many results with these raw bytes claim another sample, or the same sample and item."""
        return self.other_samples(raw, sample) + self._tally[("rsi", raw, sample, item)]

    def value_count(self, measurement: str | None, raw: str, sample: str) -> int:
        """How many results have these raw values, another sample and other raw bytes."""
        if measurement is None:
            return 0
        t = self._tally
        return (t[("m", measurement)] - t[("ms", measurement, sample)] - t[("mr", measurement, raw)]
                + t[("mrs", measurement, raw, sample)])

    def raw_matches(self, raw: str, sample: str, item: str) -> Match:
        """Results with these raw bytes that claim another sample, or the same sample and item."""
        total = self.raw_count(raw, sample, item)
        if total == 0:
            return None, 0
        return next(k for k in self._by_raw[raw] if k.sample != sample or k.item == item), total

    def value_matches(self, measurement: str | None, raw: str, sample: str) -> Match:
        """Results with these raw values, another sample and other raw bytes (those are raw repeats)."""
        total = self.value_count(measurement, raw, sample)
        if measurement is None or total == 0:
            return None, 0
        return next(k for k in self._by_value[measurement] if k.sample != sample and k.raw != raw), total
