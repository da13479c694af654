"""The serial drivers' one open/serve/reopen loop (enzyme, line profiles, ASTM).

The port is opened 8N1 at the driver's speed and handed to the driver's ``serve`` until the port
fails; then it is reopened with backoff. Each outage is one log line and one listener call when it
starts and one when it ends (``LinkWatch``), however many attempts it takes.
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
"""Serve one open port until it is lost; return why (``"end of stream"``, the read error, ...)."""

PORT_ERRORS = (OSError, serial.SerialException, ConnectionError)
"""What a lost or unopenable serial port raises."""


@dataclass(frozen=True)
class SerialPort:
    """Where and how fast: the device path (or symlink) and the line speed (always 8N1)."""

    path: str
    baudrate: int


async def keep_serial_link(port: SerialPort, serve: Serve, watch: LinkWatch, backoff: Backoff) -> NoReturn:
    """Open ``port``, ``serve`` it until lost, wait ``backoff``, reopen; forever until cancelled.

    Exceptions other than port errors (a failing sink, a bug) propagate.
    """
    while True:
        try:
            reader, writer = await serial_asyncio_fast.open_serial_connection(
                url=port.path, baudrate=port.baudrate, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE)
        except PORT_ERRORS as exc:
            watch.lost(f"cannot open {port.path}: {exc}", "port_open_failed", backoff.max_s)
        else:
            backoff.reset()
            watch.connected(f"port {port.path} opened", "port_opened")
            try:
                why = await serve(reader, writer)
            except PORT_ERRORS as exc:
                why = str(exc) or type(exc).__name__
            finally:
                writer.close()
            watch.lost(f"port {port.path} lost: {why}", "port_lost", backoff.max_s)
        await backoff.wait()
