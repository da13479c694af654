"""Request and response bodies of ingest and the results API (kept apart from the ORM models)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from protocols.wire.answers import IngestCode, IngestStatus

from lims_api.core.schemas import Rfc3339


class LineResult(BaseModel):
    """Outcome of one non-empty NDJSON line of an ingest request."""

    line: int
    gateway: str | None
    seq: int | None
    status: IngestStatus
    code: IngestCode | None = None
    error: str | None = None
    hash: str | None = None


class IngestStopped(BaseModel):
    """Ingest stopped early: after ``max_rejected_lines`` rejections the remaining lines were not read."""

    after_line: int
    """The last line processed (it has an entry in ``results``)."""
    unprocessed: int
    """Non-blank lines after it, not processed and not answered: send them again."""
    reason: str


class IngestResponse(BaseModel):
    results: list[LineResult]
    """One entry per processed line, in line order."""
    stopped: IngestStopped | None = None
    """Set when the request had too many rejected lines; ``None`` when every line was processed."""


class ResultItem(BaseModel):
    gateway: str
    seq: int
    hash: str
    stored_at: Rfc3339
    trace_code: str | None
    rerun_needed: bool
    """The verdict is ``invalid``: the sample must be tested again (no case is opened)."""
    result: dict[str, Any]


class PublicResult(BaseModel):
    """What the public may see of a result (公示): no operator, supplier, origin contact or barcode."""

    product: str | None
    stall: str | None
    item: str
    verdict: str
    date: str
    site_id: str


class PublicResultsResponse(BaseModel):
    results: list[PublicResult]


class ResultsResponse(BaseModel):
    results: list[ResultItem]
