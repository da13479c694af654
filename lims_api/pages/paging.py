"""Page numbers for long tables: which slice a page shows and whether there are neighbours."""

from __future__ import annotations

from dataclasses import dataclass


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
