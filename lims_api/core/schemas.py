"""Types shared by every domain's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

Rfc3339 = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(timespec="milliseconds"), return_type=str)]
"""Aware datetime rendered as RFC 3339 with an explicit offset."""


class StrictIn(BaseModel):
    """Base of request bodies: unknown members are refused."""

    model_config = ConfigDict(extra="forbid")
