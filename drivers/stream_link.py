"""The stream drivers' one open/serve/reopen loop: a serial port (enzyme, line profiles, ASTM) or a
TCP connection (ASTM behind a serial server).

The link is opened and handed to the driver's ``serve`` until it fails; then it is reopened with
backoff. Each outage is one log line and one listener call when it starts and one when it ends
(``LinkWatch``), however many attempts it takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

import serial
import serial_asyncio_fast

from .link_watch import Backoff, LinkWatch

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[str]]
"""Serve one open link until it is lost; return why (``"end of stream"``, the read error, ...)."""

PORT_ERRORS = (OSError, serial.SerialException, ConnectionError)
"""What a lost or unopenable serial port or TCP connection raises."""


@dataclass(frozen=True)
class SerialPort:
    """Where and how fast: the device path (or symlink) and the line speed (always 8N1)."""

    path: str
    baudrate: int

    @property
    def where(self) -> str:
        return self.path

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await serial_asyncio_fast.open_serial_connection(
            url=self.path, baudrate=self.baudrate, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE)


@dataclass(frozen=True)
class TcpPort:
    """A TCP server that carries the instrument's serial line (a serial server in TCP server mode)."""

    host: str
    port: int
    connect_timeout_s: float = 10.0

    @property
    def where(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(self.connect_timeout_s):
            return await asyncio.open_connection(self.host, self.port)


async def keep_link(port: SerialPort | TcpPort, serve: Serve, watch: LinkWatch, backoff: Backoff) -> NoReturn:
    """Open ``port``, ``serve`` it until lost, wait ``backoff``, reopen; forever until cancelled.

    Exceptions other than link errors (a failing sink, a bug) propagate.
    """
    while True:
        try:
            reader, writer = await port.open()
        except (*PORT_ERRORS, TimeoutError) as exc:
            watch.lost(f"cannot open {port.where}: {str(exc) or type(exc).__name__}", "port_open_failed",
                       backoff.max_s)
        else:
            backoff.reset()
            watch.connected(f"port {port.where} opened", "port_opened")
            try:
                why = await serve(reader, writer)
            except PORT_ERRORS as exc:
                why = str(exc) or type(exc).__name__
            finally:
                writer.close()
            watch.lost(f"port {port.where} lost: {why}", "port_lost", backoff.max_s)
        await backoff.wait()
