"""What other domains do when an envelope is stored: hooks that run inside the storing transaction.

Ingest knows no other domain; the package root registers the hooks (a stored positive opens its
follow-up case), so what a hook writes commits or rolls back with the envelope itself.
Batch hooks run once per ingest request, in its storing transaction (inside a savepoint), with the
row id, chain place and verified result of each envelope it stored (plausibility flags look at the
batch together, not line by line, and need not read back what was just stored).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from protocols.result import TestResult



@dataclass(frozen=True)
class StoredRow:
    """A just-inserted ``envelopes`` row as hooks see it (no ORM object is built per stored envelope)."""

    id: int
    gateway_id: str
    seq: int
    result_id: str
    site_id: str


StoredHook = Callable[[Session, StoredRow, TestResult, datetime], None]
"""Called with the session, the just-inserted row, its verified result and the storing time."""

_HOOKS: list[StoredHook] = []


def on_stored(hook: StoredHook) -> StoredHook:
    """Run ``hook`` for every newly stored envelope (registered once, however often this is called)."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


@dataclass(frozen=True)
class StoredResult:
    """An envelope stored by this request, as batch hooks see it: its row id, chain place and verified result."""

    id: int
    gateway: str
    seq: int
    result: TestResult
    member: dict[str, Any]
    """The envelope's ``result`` member as received (members the model does not keep, e.g. ``evidence``)."""


BatchHook = Callable[[Session, list[StoredResult], datetime], object]
"""Called with the session, the envelopes stored by one ingest request (in row order) and the time; the
caller commits."""

_BATCH_HOOKS: list[BatchHook] = []


def on_batch_stored(hook: BatchHook) -> BatchHook:
    """Run ``hook`` once per ingest request that stored envelopes (registered once)."""
    if hook not in _BATCH_HOOKS:
        _BATCH_HOOKS.append(hook)
    return hook


def run_batch_hooks(session: Session, stored: list[StoredResult], at: datetime) -> None:
    """Run every registered batch hook on ``stored``, in registration order."""
    for hook in _BATCH_HOOKS:
        hook(session, stored, at)


def run_stored_hooks(session: Session, stored: StoredRow, result: TestResult, at: datetime) -> None:
    """Run every registered hook, in registration order, in the caller's transaction."""
    for hook in _HOOKS:
        hook(session, stored, result, at)
