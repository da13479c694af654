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
        """Count ``known`` in every tally it belongs to (kept in envelope-id order)."""
        r, m, s, n = known.raw, known.measurement, known.sample, known.count
        bisect.insort(self._by_raw[r], known, key=lambda k: k.envelope_id)
        self._tally.update({("r", r): n, ("rs", r, s): n, ("rsi", r, s, known.item): n})
        if m is not None:
            bisect.insort(self._by_value[m], known, key=lambda k: k.envelope_id)
            self._tally.update({("m", m): n, ("ms", m, s): n, ("mr", m, r): n, ("mrs", m, r, s): n})

    def raw_matches(self, raw: str, sample: str, item: str) -> Match:
        """Results with these raw bytes that claim another sample, or the same sample and item."""
        t = self._tally
        total = t[("r", raw)] - t[("rs", raw, sample)] + t[("rsi", raw, sample, item)]
        if total == 0:
            return None, 0
        first = next(k for k in self._by_raw[raw] if k.sample != sample or k.item == item)
        return first, total

    def value_matches(self, measurement: str | None, raw: str, sample: str) -> Match:
        """Results with these raw values, another sample and other raw bytes (those are raw repeats)."""
        if measurement is None:
            return None, 0
        t = self._tally
        total = (t[("m", measurement)] - t[("ms", measurement, sample)] - t[("mr", measurement, raw)]
                 + t[("mrs", measurement, raw, sample)])
        if total == 0:
            return None, 0
        first = next(k for k in self._by_value[measurement] if k.sample != sample and k.raw != raw)
        return first, total
