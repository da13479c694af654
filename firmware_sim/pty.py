"""The simulators' serial port: a raw pty whose slave a host opens by path (or by a stable symlink)."""

from __future__ import annotations

import os
import tty
from pathlib import Path


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
