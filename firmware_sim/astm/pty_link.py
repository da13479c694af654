"""A pty pair in raw mode with an optional symlink, so a driver can open the instrument by path."""

from __future__ import annotations

import os
import tty
from dataclasses import dataclass
from pathlib import Path

from ..pty import open_raw_pty


@dataclass
class PtyLink:
    """The instrument writes to ``master_fd``; the host opens ``path`` (or the symlink ``link``)."""

    master_fd: int
    slave_fd: int
    path: str
    link: str | None

    def close(self) -> None:
        """Close both ends and remove the symlink."""
        for fd in (self.master_fd, self.slave_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.link and Path(self.link).is_symlink():
            Path(self.link).unlink()


def open_pty_link(link: str | None = None) -> PtyLink:
    """Open a raw pty; keep the slave open so the host may close and reopen it without a hangup."""
    master_fd, slave_fd, path = open_raw_pty(Path(link) if link else None)
    tty.setraw(master_fd)
    return PtyLink(master_fd, slave_fd, path, link)
