"""Page numbers for long tables: which slice a page shows and whether there are neighbours."""

from __future__ import annotations

from dataclasses import dataclass

from lims_api.ingest.models import StoredEnvelope

NEWEST_FIRST = (StoredEnvelope.tested_at.desc(), StoredEnvelope.id.desc())
"""Order of a day's results on every page: a total order (id breaks ties), so pages never overlap."""


@dataclass(frozen=True)
class Page:
    number: int
    """1-based, clamped to the pages there are."""
    size: int
    total: int
    """Rows in all pages."""

    @classmethod
    def of(cls, requested: int, size: int, total: int) -> Page:
        last = max(1, -(-total // size))
        return cls(min(max(1, requested), last), size, total)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.offset + self.size)
