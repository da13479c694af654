"""The Modbus link to one instrument: pymodbus client, our own retries, errors that say what and why.

pymodbus retries are off (``retries=0``) so that every failed attempt is seen and logged here with
the bytes that did arrive — a bad CRC or line noise shows up as "received N bytes that are not a
valid reply", silence as "no reply within T s".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from ..base import DriverError
from ._options import ModbusProfileOptions

log = logging.getLogger("drivers.modbus_profile")
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
"""pymodbus logs every failed connect and request itself, a missing reply as an ERROR with a
multi-line dump of the whole exchange; ModbusLink reports each failure in one line of its own
(with the bytes that arrived), so only pymodbus's critical records are let through."""


class LinkError(DriverError):
    """The instrument link failed (no connection, no valid reply, lost mid-request)."""


def _raise_if_cancelled() -> None:
    """Re-raise a cancellation of the current task that a library swallowed."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _hex(data: bytes, limit: int = 48) -> str:
    text = data[:limit].hex(" ")
    return text + (" …" if len(data) > limit else "")


class ModbusLink:
    """Reads and writes registers of unit ``options.unit``; raises LinkError naming the address."""

    def __init__(self, options: ModbusProfileOptions, label: str, *, log_retries: bool = True) -> None:
        self.options = options
        self.label = label
        self.log_retries = log_retries
        """False while the instrument is known to be away: its outage is logged once, not per retry."""
        self.silences = 0
        """Requests that got no valid reply (each failed attempt): the device may have changed meanwhile."""
        self._received = b""
        self._lost = False
        common: dict[str, Any] = {"timeout": options.timeout_s, "retries": 0, "reconnect_delay": 0,
                  "trace_packet": self._trace_packet, "trace_connect": self._trace_connect}
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient
        if options.transport == "tcp":
            assert options.host is not None and isinstance(options.port, int)
            self._client = AsyncModbusTcpClient(options.host, port=options.port, **common)
        else:
            self._client = AsyncModbusSerialClient(
                str(options.port), baudrate=options.baudrate, parity=options.parity,
                stopbits=options.stopbits, **common,
            )

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self._received = data  # the receive buffer so far, for error reports
        return data

    def _trace_connect(self, connected: bool) -> None:
        self._lost = not connected

    async def open(self) -> None:
        """Connect; LinkError when the instrument cannot be reached."""
        connected = await self._client.connect()
        _raise_if_cancelled()
        if not connected:
            raise LinkError(f"cannot connect to {self.options.link}")
        self._lost = False

    def close(self) -> None:
        self._client.close()

    async def read(self, table: str, address: int, count: int) -> list[int]:
        """``count`` registers of ``table`` (holding/input) from ``address``."""
        call = self._client.read_input_registers if table == "input" else self._client.read_holding_registers
        what = f"reading {table} {address}..{address + count - 1}"
        reply = await self._attempt(what, lambda: call(address, count=count, device_id=self.options.unit))
        registers = list(reply.registers)
        if len(registers) != count:
            raise LinkError(f"{what}: reply holds {len(registers)} registers, expected {count} (stale or foreign reply)")
        return registers

    async def write(self, address: int, words: list[int]) -> None:
        """Write ``words`` from holding ``address`` (FC06 for one word, FC16 for more)."""
        what = f"writing holding {address}..{address + len(words) - 1} = {words}"
        unit = self.options.unit
        if len(words) == 1:
            await self._attempt(what, lambda: self._client.write_register(address, words[0], device_id=unit))
        else:
            await self._attempt(what, lambda: self._client.write_registers(address, words, device_id=unit))

    async def _attempt(self, what: str, request: Callable[[], Awaitable[ModbusPDU]]) -> ModbusPDU:
        attempts = self.options.retries + 1
        why = ""
        for attempt in range(1, attempts + 1):
            self._received = b""
            try:
                reply = await request()
            except ConnectionException as exc:
                raise LinkError(f"{what}: not connected ({exc})") from exc
            except ModbusIOException as exc:
                _raise_if_cancelled()  # pymodbus turns our cancellation into an IO error
                self.silences += 1
                why = self._explain(exc)
            except ModbusException as exc:
                raise LinkError(f"{what}: {exc}") from exc
            else:
                _raise_if_cancelled()  # asyncio.wait_for (3.11) may return a reply and drop a cancel
                if reply.isError():
                    raise LinkError(f"{what}: instrument answered Modbus exception code {reply.exception_code}")
                return reply
            if self._lost:
                raise LinkError(f"{what}: connection lost ({why})")
            if attempt < attempts and self.log_retries:
                log.warning("%s: %s: %s (attempt %d of %d)", self.label, what, why, attempt, attempts)
        raise LinkError(f"{what}: {why} (after {attempts} attempts)")

    def _explain(self, exc: ModbusIOException) -> str:
        if self._received:
            return (f"received {len(self._received)} bytes that are not a valid reply "
                    f"(bad CRC, line noise or a truncated frame): {_hex(self._received)}")
        if "No response" in str(exc):
            return f"no reply within {self.options.timeout_s:g} s"
        return f"bad reply: {exc}"
