"""``python -m lims_api checkpoint | tree-head``: signed daily checkpoints and Merkle tree heads."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lims_api.core.existing_db import open_existing
from lims_api.core.models import utc_now
from lims_api.core.settings import LimsSettings

from .checkpoints import run_checkpoints
from .merkle_log import TreeHeadRun, run_tree_head
from .signing_key import load_or_create_key


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def add_checkpoint_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the subcommand and its options."""
    command = commands.add_parser("checkpoint", help="create/refresh signed daily checkpoints (Merkle roots)")
    command.add_argument("--db")
    command.add_argument("--data-dir", type=Path, help="holds the LIMS signing key (created on first use)")
    command.add_argument("--date", dest="day", type=_date, help="only this LIMS-local day of stored_at, YYYY-MM-DD")
    head = commands.add_parser("tree-head", help="sequence new envelopes into the Merkle log and sign a tree head")
    head.add_argument("--db")
    head.add_argument("--data-dir", type=Path, help="holds the LIMS signing key (created on first use)")


def run_checkpoint_command(settings: LimsSettings, args: argparse.Namespace) -> None:
    """Checkpoint one day or every day so far, then sign a tree head (the end-of-day one when run after midnight).

    ``CheckpointMismatch`` / ``LogMismatch`` (LimsErrors) report tampering.
    """
    engine = open_existing(settings.resolved_database_url())
    try:
        key = load_or_create_key(settings.data_dir)
        with Session(engine) as session:
            runs = run_checkpoints(session, key, ZoneInfo(settings.timezone), utc_now(), args.day)
            for run in runs:
                print(f"{run.day} {run.outcome}: {run.count} envelope(s), root {run.merkle_root}")
            _print_head(run_tree_head(session, key, utc_now()))
    finally:
        engine.dispose()


def run_tree_head_command(settings: LimsSettings) -> None:
    """Sequence and sign a tree head now; ``LogMismatch`` reports a rewritten log."""
    engine = open_existing(settings.resolved_database_url())
    try:
        key = load_or_create_key(settings.data_dir)
        with Session(engine) as session:
            _print_head(run_tree_head(session, key, utc_now()))
    finally:
        engine.dispose()


def _print_head(run: TreeHeadRun) -> None:
    print(f"tree head {run.outcome}: size {run.size}, root {run.root}")
