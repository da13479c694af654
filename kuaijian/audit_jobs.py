"""Envelope lines checked by a pool of processes, results handed back in file order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from protocols.bundle_stream import Keys, LineCheck, check_line, check_lines

CHUNK_LINES = 2000
_keys: Keys = {}


def _set_keys(keys: Keys) -> None:
    global _keys
    _keys = keys


def _check_chunk(lines: list[bytes]) -> list[LineCheck]:
    return check_lines(lines, _keys)


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
        pending: deque[Future[list[LineCheck]]] = deque()
        while chunk := list(islice(source, CHUNK_LINES)):
            pending.append(pool.submit(_check_chunk, chunk))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
