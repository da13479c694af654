"""Progress of ``kuaijian audit verify``: a rich bar with rate and ETA on a terminal, a one-line summary otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def counted(lines: Iterable[bytes], advance: Callable[[int], None], every: int = 1 << 20) -> Iterator[bytes]:
    """``lines`` unchanged; their lengths (plus newlines) reported to ``advance`` about every ``every`` bytes."""
    done = 0
    for line in lines:
        done += len(line) + 1
        if done >= every:
            advance(done)
            done = 0
        yield line
    advance(done)


def summary(envelopes: int, size: int, seconds: float, jobs: int) -> str:
    """The plain line: envelopes, bytes, time, rate and processes."""
    rate = envelopes / seconds if seconds > 0 else 0.0
    return (f"verified {envelopes} envelope(s), {size / 1e6:.1f} MB in {seconds:.1f} s "
            f"({rate:,.0f} envelopes/s, {jobs} job(s))")


@contextmanager
def progress_bar(console: Console, total: int) -> Iterator[Callable[[int], None]]:
    """An ``advance(bytes)`` callback: drives a bar on a terminal, does nothing otherwise (rich.progress is
    loaded only for the bar)."""
    if not console.is_terminal:
        yield lambda _: None
        return
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    columns = (TextColumn("verify"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("verify", total=total)
        yield lambda n: bar.advance(task, n)


class Stopwatch:
    """Wall time since creation."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
