"""Envelope lines checked by a pool of processes, results handed back in file order."""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice

from protocols.bundle_stream import Keys, LineCheck, check_line, check_lines

CHUNK_LINES = 2000
_keys: Keys = {}


def _set_keys(keys: Keys) -> None:
    global _keys
    _keys = keys


def _check_chunk(lines: list[bytes]) -> list[LineCheck]:
    return check_lines(lines, _keys)


@contextmanager
def _main_hidden() -> Iterator[None]:
    """A spawned worker re-imports the parent's ``__main__`` file (for ``kuaijian``, the console script and every
    CLI library) unless it has none; the workers need only protocols, so it is hidden while they start."""
    main = sys.modules["__main__"]
    saved = {name: main.__dict__.get(name) for name in ("__file__", "__spec__")}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update({name: value for name, value in saved.items() if value is not None})


def line_checks(lines: Iterable[bytes], keys: Keys, jobs: int) -> Iterator[LineCheck]:
    """``check_line`` of every line, in order; ``jobs`` > 1 spreads chunks of lines over that many processes,
    with at most two chunks per process in flight (memory stays bounded)."""
    if jobs <= 1:
        for line in lines:
            yield check_line(line, keys)
        return
    source = iter(lines)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_set_keys, initargs=(keys,)) as pool:
        with _main_hidden():
            for started in [pool.submit(_set_keys, keys) for _ in range(jobs)]:
                started.result()
        pending: deque[Future[list[LineCheck]]] = deque()
        while chunk := list(islice(source, CHUNK_LINES)):
            pending.append(pool.submit(_check_chunk, chunk))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
