"""Types shared by every domain's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

INT64_MAX = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""A database row id in a body: 1 .. 2^63-1 (a larger number could not even be looked up)."""
RowIdPath = Annotated[int, Path(ge=1, le=INT64_MAX)]
"""A database row id in a path: out of range is a 422, never an overflow in the database driver."""

Rfc3339 = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(timespec="milliseconds"), return_type=str)]
"""Aware datetime rendered as RFC 3339 with an explicit offset."""


class StrictIn(BaseModel):
    """Base of request bodies: unknown members are refused."""

    model_config = ConfigDict(extra="forbid")
