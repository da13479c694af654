"""What other domains do when an envelope is stored: hooks that run inside the storing transaction.

Ingest knows no other domain; the package root registers the hooks (a stored positive opens its
follow-up case), so what a hook writes commits or rolls back with the envelope itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from protocols.result import TestResult

from .models import StoredEnvelope

StoredHook = Callable[[Session, StoredEnvelope, TestResult, datetime], None]
"""Called with the session, the just-flushed row, its verified result and the storing time."""

_HOOKS: list[StoredHook] = []


def on_stored(hook: StoredHook) -> StoredHook:
    """Run ``hook`` for every newly stored envelope (registered once, however often this is called)."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def run_stored_hooks(session: Session, stored: StoredEnvelope, result: TestResult, at: datetime) -> None:
    """Run every registered hook, in registration order, in the caller's transaction."""
    for hook in _HOOKS:
        hook(session, stored, result, at)
