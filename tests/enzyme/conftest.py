"""Shared fixtures of the EI-412 tests: golden vectors and an event -> plain-dict view."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from .enzyme_support import DATA



def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def event_as_golden(event: Any) -> dict[str, Any]:
    """The event in golden.json's terms: type name, fields as strings, raw/data as a length."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if item.name in ("raw", "data"):
            out["length"] = len(value)
        elif item.name != "detail":
            out[item.name] = _plain(value)
    return out


@pytest.fixture(scope="session")
def golden() -> list[dict[str, Any]]:
    """Golden vectors with their stream bytes loaded under ``stream``."""
    vectors = json.loads((DATA / "golden.json").read_text("utf-8"))["vectors"]
    return [{**vector, "stream": (DATA / vector["file"]).read_bytes()} for vector in vectors]


@pytest.fixture(scope="session")
def as_golden() -> Callable[[Any], dict[str, Any]]:
    return event_as_golden
