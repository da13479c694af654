"""A truncated, emptied or deleted outbox: the gateway refuses to start with a clear error (never a new empty
outbox in its place); restoring the backup, as documented, continues the chain with nothing lost."""

from __future__ import annotations

import shutil

import pytest

from kuaijian.demo import start_gateway

from ..crash.chaos import outbox_counts, wait_until
from .harness import acked_through, final_count, gateway_config, gold_reader, outbox_of, wait_drained

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(240)]

BEFORE, AFTER = 30, 30


def _refused(config, logs, words: str) -> str:
    """Run the gateway on the damaged outbox: it must exit 1 and say ``words``; its log text."""
    gateway = start_gateway(config, logs)
    assert gateway.process.wait(30) == 1, gateway.log_path.read_text()
    text = gateway.log_path.read_text("utf-8", errors="replace")
    assert words in text and "docs/durability.md" in text, text[-2000:]
    return text


def test_damaged_or_missing_outbox_is_refused_and_the_backup_restores_the_chain(tmp_path, logs, lims_process):
    reader = gold_reader(logs)
    first = reader.start(BEFORE)
    config = gateway_config(tmp_path, lims_process, [reader.entry()])
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    try:
        wait_until(lambda: acked_through(first, BEFORE), 60, "the first readings", alive=lambda: [gateway])
        wait_drained(lims_process, outbox, lambda: [gateway])
    finally:
        assert gateway.stop() == 0
        first.stop()
    backup = tmp_path / "backup.sqlite3"
    shutil.copy2(outbox, backup)  # what docs/operations.md's backup keeps (taken here with the gateway stopped)
    size = outbox.stat().st_size

    with outbox.open("r+b") as handle:
        handle.truncate(size // 2)
    _refused(config, logs, "the outbox is damaged")
    assert outbox.stat().st_size == size // 2, "the damaged file must be left as it was"

    outbox.write_bytes(b"")
    _refused(config, logs, "the outbox is empty (0 bytes)")

    outbox.unlink()
    _refused(config, logs, f"the outbox is missing but its status file shows a chain up to seq {BEFORE}")
    assert not outbox.exists(), "no new empty outbox may appear"

    shutil.copy2(backup, outbox)  # the documented recovery: restore the backup, start again
    second = reader.start(AFTER, first_sequence=BEFORE + 1)
    gateway = start_gateway(config, logs)
    try:
        wait_until(lambda: acked_through(second, BEFORE + AFTER), 60, "the readings after the restore",
                   alive=lambda: [gateway])
        wait_drained(lims_process, outbox, lambda: [gateway])
        assert outbox_counts(outbox).last_seq == BEFORE + AFTER
    finally:
        assert gateway.stop() == 0
        second.stop()
    final_count(lims_process, tmp_path / "bundle", BEFORE + AFTER)
