"""Query of stored results."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from protocols.result import Verdict

from ..deps import SessionDep
from ..queries import find_results, result_object
from ..schemas import ResultItem, ResultsResponse

router = APIRouter(prefix="/api/v1", tags=["results"])


@router.get("/results", response_model=ResultsResponse)
def list_results(
    session: SessionDep,
    site: str | None = None,
    date: Annotated[date | None, Query(description="local test date, YYYY-MM-DD")] = None,  # noqa: A002
    verdict: Verdict | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ResultsResponse:
    """Stored results filtered by site, local test date and verdict; newest test first."""
    rows = find_results(session, site=site, tested_date=date, verdict=verdict, limit=limit)
    return ResultsResponse(
        results=[
            ResultItem(gateway=r.gateway_id, seq=r.seq, hash=r.hash, stored_at=r.stored_at, result=result_object(r))
            for r in rows
        ]
    )
