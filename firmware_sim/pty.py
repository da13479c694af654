"""The simulators' serial port: a raw pty whose slave a host opens by path (or by a stable symlink)."""

from __future__ import annotations

import os
import select
import threading
import tty
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self


def open_raw_pty(link: Path | None = None) -> tuple[int, int, str]:
    """(master fd, slave fd, slave path) of a new pty with the slave in raw mode.

    With ``link``, a symlink to the slave is (re)placed atomically, like a udev rule's stable name.
    """
    master, slave = os.openpty()
    tty.setraw(slave)
    slave_name = os.ttyname(slave)
    if link is not None:
        link.parent.mkdir(parents=True, exist_ok=True)
        staging = link.with_name(link.name + ".new")
        staging.unlink(missing_ok=True)
        staging.symlink_to(slave_name)
        os.replace(staging, link)
    return master, slave, slave_name


def remove_link(link: Path | None, slave_name: str) -> None:
    """Remove ``link`` if it still points at this simulator's pty (another may have replaced it)."""
    if link is not None and link.is_symlink() and os.readlink(link) == slave_name:
        link.unlink()


def close_pty(link: Path | None, slave_name: str, *fds: int) -> None:
    """Remove this simulator's symlink and close its pty ends (fds below 0 are already closed)."""
    remove_link(link, slave_name)
    for fd in fds:
        if fd >= 0:
            os.close(fd)


POLL_S = 0.05
"""Seconds a simulator's thread or blocked write waits before looking again."""


class PtySimulator(ABC):
    """The lifecycle of a simulator on a pty: the port and symlink, its threads, ``stop`` and a patient write.

    A subclass names the error a write on a closed or stopped simulator raises and the threads it runs.
    """

    closed_error: ClassVar[type[Exception]]

    def __init__(self, link: str | os.PathLike[str] | None) -> None:
        self.link = Path(link) if link is not None else None
        self._master = self._slave = -1
        self.slave_name = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the master fd
        self._threads: list[threading.Thread] = []

    @abstractmethod
    def _workers(self) -> dict[str, Callable[[], None]]:
        """Thread name -> body of each thread to run from ``open`` until ``close``."""

    @property
    def port(self) -> str:
        """Path the host should open: the symlink if one was asked for, else the pty slave."""
        return str(self.link) if self.link is not None else self.slave_name

    def open(self) -> str:
        """Create the pty (slave raw), the optional symlink and the threads; return the port."""
        self._master, self._slave, self.slave_name = open_raw_pty(self.link)
        self._stop.clear()
        workers = self._workers().items()
        self._threads = [threading.Thread(target=body, name=name, daemon=True) for name, body in workers]
        for thread in self._threads:
            thread.start()
        return self.port

    def close(self) -> None:
        """Stop, remove the symlink, close the pty."""
        self.stop()
        for thread in self._threads:
            thread.join()
        self._threads = []
        with self._lock:
            close_pty(self.link, self.slave_name, self._master, self._slave)
            self._master = self._slave = -1

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def stop(self) -> None:
        """Make ``serve`` return and a blocked write give up."""
        self._stop.set()

    def write_bytes(self, data: bytes) -> None:
        """Write raw bytes to the line, waiting while the host's receive buffer is full."""
        view = memoryview(data)
        while view:
            with self._lock:
                if self._master < 0:
                    raise self.closed_error("simulator is closed")
                _, writable, _ = select.select([], [self._master], [], 0)
                written = os.write(self._master, view) if writable else 0
            view = view[written:]
            if not written and self._stop.wait(POLL_S):
                raise self.closed_error("simulator stopped while the host was not reading")
