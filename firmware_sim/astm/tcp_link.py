"""The analyzer behind a serial server in TCP server mode: the host connects, the instrument talks.

A serial server (RS-232 to Ethernet) passes the analyzer's bytes unchanged over one TCP
connection; the host is the TCP client. ``accept`` waits for the host and gives the instrument
the connection's file descriptor, which it reads and writes like the pty's.
"""

from __future__ import annotations

import socket


class TcpLink:
    """A listening socket on ``host:port`` (0: any free port) taking one host connection at a time."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = socket.create_server((host, port))
        self.connection: socket.socket | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the host should connect to."""
        host, port = self.server.getsockname()[:2]
        return host, port

    def accept(self, timeout: float | None = None) -> int:
        """Wait for the host (at most ``timeout`` s); the connection's fd (the previous one is closed)."""
        self.server.settimeout(timeout)
        connection, _ = self.server.accept()
        self.close_connection()
        self.connection = connection
        return connection.fileno()

    def close_connection(self) -> None:
        """Hang up on the host (a serial server losing its network link)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def close(self) -> None:
        """Stop listening and hang up."""
        self.close_connection()
        self.server.close()
