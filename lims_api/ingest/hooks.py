"""What other domains do when an envelope is stored: hooks that run inside the storing transaction.

Ingest knows no other domain; the package root registers the hooks (a stored positive opens its
follow-up case), so what a hook writes commits or rolls back with the envelope itself.
Batch hooks run once per ingest request, after its envelopes are committed, with the (gateway,
seq) of those it stored (plausibility flags look at the batch together, not line by line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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


BatchHook = Callable[[Session, list[tuple[str, int]], datetime], object]
"""Called with the session, the (gateway, seq) stored by one ingest request and the time; the caller commits."""

_BATCH_HOOKS: list[BatchHook] = []


def on_batch_stored(hook: BatchHook) -> BatchHook:
    """Run ``hook`` once per ingest request that stored envelopes (registered once)."""
    if hook not in _BATCH_HOOKS:
        _BATCH_HOOKS.append(hook)
    return hook


def run_batch_hooks(session: Session, keys: list[tuple[str, int]], at: datetime) -> None:
    """Run every registered batch hook on ``keys``, in registration order."""
    for hook in _BATCH_HOOKS:
        hook(session, keys, at)


def run_stored_hooks(session: Session, stored: StoredRow, result: TestResult, at: datetime) -> None:
    """Run every registered hook, in registration order, in the caller's transaction."""
    for hook in _HOOKS:
        hook(session, stored, result, at)
