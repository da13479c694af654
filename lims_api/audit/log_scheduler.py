"""Signs a Merkle tree head every ``tree_head_interval_min`` while the service runs (each worker; the log head
row lock lets only one sign a given size)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lims_api.core.errors import LimsError
from lims_api.core.models import utc_now

from .merkle_log import run_tree_head

logger = logging.getLogger(__name__)


def tick(sessionmaker: Callable[[], Session], key: Ed25519PrivateKey) -> None:
    """One sequencer run; failures are logged (a mismatch also lands in the audit log) and retried next time."""
    try:
        with sessionmaker() as session:
            run = run_tree_head(session, key, utc_now())
        if run.outcome == "signed":
            logger.info("tree head signed", extra={"size": run.size, "root": run.root})
    except LimsError as exc:
        logger.error("tree head not signed: %s", exc, extra={"error": str(exc)})
    except Exception:  # the database may be down: keep the loop alive, try again next interval
        logger.exception("tree head run failed")


async def run_periodically(sessionmaker: Callable[[], Session], key: Ed25519PrivateKey, interval_s: float,
                           stop: asyncio.Event) -> None:
    """Run ``tick`` every ``interval_s`` until ``stop`` is set."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            await run_in_threadpool(tick, sessionmaker, key)
