"""Today's quality control per instrument: samples tested, negative and positive controls run, per kit lot.

Domain rule: a negative and a positive control per kit lot and per day. One grouped query reads today's
rows of the sites in scope by (site, gateway, instrument, ``qc.control``, kit lot); the kit lot is read
inside the database from the stored envelope text: the room-page label's ``result.kit.lot``, else the
instrument's ``result.measurement.kit_lot``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from lims_api.ingest.models import StoredEnvelope

CONTROLS = ("negative_control", "positive_control")
LOT_PATHS = (("result", "kit", "lot"), ("result", "measurement", "kit_lot"))
QcState = Literal["done", "due", "no_samples"]


@dataclass
class InstrumentQc:
    """One instrument's QC of the day as the console shows it."""

    site_id: str
    gateway_id: str
    instrument_id: str
    samples: int = 0
    sample_lots: set[str | None] = field(default_factory=set)
    """Kit lots of today's samples (``None``: a sample whose lot is unknown)."""
    control_lots: dict[str, set[str | None]] = field(default_factory=dict)
    """Per control kind run today, the kit lots it was run with."""
    last_control_at: dict[str, datetime] = field(default_factory=dict)
    """Per control kind run today, when the last one was tested."""

    @property
    def lots(self) -> list[str]:
        """The known kit lots of today's samples, sorted."""
        return sorted(lot for lot in self.sample_lots if lot is not None)

    @property
    def missing(self) -> list[tuple[str, str | None]]:
        """(control kind, kit lot) still needed today; lot ``None``: no such control at all today.

        A control whose lot is unknown counts for every lot; samples of unknown lot need any control.
        """
        if not self.samples:
            return []
        needed: list[tuple[str, str | None]] = []
        for kind in CONTROLS:
            run = self.control_lots.get(kind)
            if not run:
                needed.append((kind, None))
            elif None not in run:
                needed.extend((kind, lot) for lot in self.lots if lot not in run)
        return needed

    @property
    def state(self) -> QcState:
        """``done`` (controls cover today's samples), ``due`` (some missing), ``no_samples`` (QC runs only)."""
        if not self.samples:
            return "no_samples"
        return "due" if self.missing else "done"


def _json_text(dialect: str, path: tuple[str, ...]) -> ColumnElement[Any]:
    """The text at ``path`` in the stored envelope (NULL when absent or not an object on the way)."""
    if dialect == "postgresql":
        return cast(StoredEnvelope.raw_text, JSONB)[path].astext
    return func.json_extract(StoredEnvelope.raw_text, "$." + ".".join(path))


def _kit_lot(dialect: str) -> ColumnElement[Any]:
    return func.coalesce(*(_json_text(dialect, path) for path in LOT_PATHS))


def qc_today(session: Session, site_ids: Iterable[str], today: date) -> list[InstrumentQc]:
    """Each instrument with results on ``today`` in these sites, ordered by site, gateway, instrument."""
    e = StoredEnvelope
    day = (select(e.site_id, e.gateway_id, e.instrument_id, e.qc_control, e.tested_at,
                  _kit_lot(session.get_bind().dialect.name).label("kit_lot"))
           .where(e.site_id.in_(sorted(site_ids)), e.tested_date == today).subquery())
    keys = (day.c.site_id, day.c.gateway_id, day.c.instrument_id, day.c.qc_control, day.c.kit_lot)
    rows = session.execute(select(*keys, func.count(), func.max(day.c.tested_at)).group_by(*keys)).all()
    found: dict[tuple[str, str, str], InstrumentQc] = {}
    for site, gateway, instrument, control, kit_lot, count, last_at in rows:
        qc = found.setdefault((site, gateway, instrument), InstrumentQc(site, gateway, instrument))
        lot_text = None if kit_lot in (None, "") else str(kit_lot)
        if control == "sample":
            qc.samples += int(count)
            qc.sample_lots.add(lot_text)
        elif control in CONTROLS:
            qc.control_lots.setdefault(control, set()).add(lot_text)
            previous = qc.last_control_at.get(control)
            qc.last_control_at[control] = last_at if previous is None else max(previous, last_at)
    return [found[key] for key in sorted(found)]


def qc_due_count(lines: Sequence[InstrumentQc]) -> int:
    """How many instruments tested samples today without the controls they need."""
    return sum(line.state == "due" for line in lines)
