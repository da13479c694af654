"""A pty pair in raw mode with an optional symlink, so a driver can open the instrument by path."""

from __future__ import annotations

import tty
from dataclasses import dataclass
from pathlib import Path

from ..pty import close_pty, open_raw_pty


@dataclass
class PtyLink:
    """The instrument writes to ``master_fd``; the host opens ``path`` (or the symlink ``link``)."""

    master_fd: int
    slave_fd: int
    path: str
    link: str | None

    def close(self) -> None:
        """Close both ends and remove the symlink."""
        close_pty(Path(self.link) if self.link else None, self.path, self.master_fd, self.slave_fd)
        self.master_fd = self.slave_fd = -1


def open_pty_link(link: str | None = None) -> PtyLink:
    """Open a raw pty; keep the slave open so the host may close and reopen it without a hangup."""
    master_fd, slave_fd, path = open_raw_pty(Path(link) if link else None)
    tty.setraw(master_fd)
    return PtyLink(master_fd, slave_fd, path, link)
