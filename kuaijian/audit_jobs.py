"""Envelope lines checked by this process and a pool of workers, results handed back in file order."""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from itertools import islice

from protocols.bundle_stream import Keys, LineCheck, check_line, check_lines

CHUNK_LINES = 500
START_METHOD = "fork" if sys.platform == "linux" else "spawn"
_keys: Keys = {}


def _set_keys(keys: Keys) -> None:
    global _keys
    _keys = keys


def _check_chunk(lines: list[bytes]) -> list[LineCheck]:
    return check_lines(lines, _keys)


@contextmanager
def _main_hidden() -> Iterator[None]:
    """A spawned worker (not a forked one) re-imports the parent's ``__main__`` file (for ``kuaijian``, the console
    script and every CLI library) unless it has none; the workers need only protocols, so it is hidden meanwhile."""
    main = sys.modules["__main__"]
    saved = {name: main.__dict__.get(name) for name in ("__file__", "__spec__")}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update({name: value for name, value in saved.items() if value is not None})


def _chunks(lines: Iterable[bytes]) -> Iterator[list[bytes]]:
    source = iter(lines)
    while chunk := list(islice(source, CHUNK_LINES)):
        yield chunk


Checker = Callable[[Iterable[bytes]], Iterator[LineCheck]]


@contextmanager
def line_checker(keys: Keys, jobs: int) -> Iterator[Checker]:
    """A function giving ``check_line`` of every line, in order, on ``jobs`` cores: this process and ``jobs`` - 1
    workers, started here. On Linux they are forked (nothing to import or pickle; start them before any other
    thread, e.g. a progress bar's), elsewhere spawned with only ``protocols`` to import."""
    if jobs <= 1:
        yield lambda lines: (check_line(line, keys) for line in lines)
        return
    context = multiprocessing.get_context(START_METHOD)
    workers = jobs - 1
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_keys, initargs=(keys,)) as pool:
        with _main_hidden():
            for started in [pool.submit(_set_keys, keys) for _ in range(workers)]:
                started.result()
        yield partial(_in_order, pool, keys, workers)


def _in_order(pool: ProcessPoolExecutor, keys: Keys, workers: int, lines: Iterable[bytes]) -> Iterator[LineCheck]:
    """Chunks of lines go to the workers, at most two per worker in flight; while they are all busy this
    process checks the next chunk itself, so memory stays bounded and no core waits."""
    pending: deque[Future[list[LineCheck]] | list[LineCheck]] = deque()
    in_flight = 0
    for chunk in _chunks(lines):
        while pending and (len(pending) > 2 * (workers + 1) or _ready(pending[0])):
            head = pending.popleft()
            if isinstance(head, Future):
                in_flight -= 1
                head = head.result()
            yield from head
        if in_flight < 2 * workers:
            pending.append(pool.submit(_check_chunk, chunk))
            in_flight += 1
        else:
            pending.append(check_lines(chunk, keys))
    for head in pending:
        yield from head.result() if isinstance(head, Future) else head


def _ready(head: Future[list[LineCheck]] | list[LineCheck]) -> bool:
    return not isinstance(head, Future) or head.done()
