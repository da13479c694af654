"""View models for the server-rendered pages (Chinese labels, local times)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone

from lims_api.ingest.models import StoredEnvelope

VERDICT_LABELS = {"positive": "阳性", "negative": "阴性", "invalid": "无效"}
CONTROL_LABELS = {"negative_control": "阴性对照", "positive_control": "阳性对照", "blank": "空白对照"}


def format_number(value: float | None) -> str:
    """A measurement number as people write it: ``50`` not ``50.0``; empty when unknown."""
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else str(value)


@dataclass(frozen=True)
class SampleRow:
    """One line of a site's daily table."""

    time: str
    sample_name: str
    stall: str
    item: str
    value: str
    cutoff: str
    verdict: str
    verdict_label: str
    instrument: str
    control: str | None = None
    """``qc.control`` of a QC run (``negative_control``, ``positive_control``, ``blank``); None for a sample."""

    @property
    def control_label(self) -> str:
        """The control kind in Chinese (the site page has no language switch); empty for a sample."""
        return CONTROL_LABELS.get(self.control, self.control) if self.control else ""

    @classmethod
    def from_stored(cls, row: StoredEnvelope) -> SampleRow:
        local = row.tested_at.astimezone(timezone(timedelta(minutes=row.tested_offset_minutes)))
        value = format_number(row.value)
        instrument = row.instrument_id if row.channel is None else f"{row.instrument_id} / {row.channel}"
        return cls(
            time=local.strftime("%H:%M:%S"),
            sample_name=row.sample_name or "—",
            stall=row.stall or "—",
            item=row.item,
            value=f"{value} {row.unit}".strip() if value else "—",
            cutoff=format_number(row.cutoff) or "—",
            verdict=row.verdict,
            verdict_label=VERDICT_LABELS.get(row.verdict, row.verdict),
            instrument=instrument,
            control=None if row.qc_control == "sample" else row.qc_control,
        )


@dataclass(frozen=True)
class DayCounts:
    total: int
    positive: int
    negative: int
    invalid: int

    @classmethod
    def of(cls, verdicts: Iterable[str]) -> DayCounts:
        listed = list(verdicts)
        return cls(
            total=len(listed),
            positive=listed.count("positive"),
            negative=listed.count("negative"),
            invalid=listed.count("invalid"),
        )


def day_view(rows: Sequence[StoredEnvelope]) -> tuple[DayCounts, list[SampleRow]]:
    """Counts (samples only: QC control runs are not products) and table rows (all) for a site's day."""
    return DayCounts.of(r.verdict for r in rows if r.qc_control == "sample"), [SampleRow.from_stored(r) for r in rows]
