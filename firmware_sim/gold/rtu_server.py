"""Modbus RTU service of the simulated reader on a pseudo-terminal.

pymodbus's serial server wants a device path, but the instrument end of a pty pair is a bare
file descriptor; so this small loop reads the master side, frames requests with pymodbus's
``FramerRTU`` (CRC included) and answers through :func:`answer`. ``link_path`` is a symlink to
the slave side, re-pointed to a fresh pty after a ``disconnect`` fault.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU

from ..pty import open_raw_pty
from .faults import FaultPlan
from .instrument import GoldInstrument
from .replying import answer

log = logging.getLogger("firmware_sim.gold")
_MAX_JUNK = 512


class GoldRtuServer:
    """Serves one :class:`GoldInstrument` as RTU unit ``unit`` on a pty reachable at ``link_path``."""

    def __init__(self, instrument: GoldInstrument, plan: FaultPlan, *, link_path: str | Path, unit: int) -> None:
        self.instrument = instrument
        self.plan = plan
        self.link_path = Path(link_path)
        self.unit = unit
        self._framer = FramerRTU(DecodePDU(True))
        self._fds: tuple[int, int] | None = None
        self._buffer = b""
        self._tasks: set[asyncio.Task[None]] = set()

    def replace_instrument(self, instrument: GoldInstrument) -> None:
        """Another reader takes this unit's place on the line while the pty stays open (an RS-485 swap)."""
        self.instrument = instrument

    async def start(self) -> None:
        """Open the pty and start answering."""
        self._open()

    async def shutdown(self) -> None:
        """Stop answering, close the pty and remove the link."""
        for task in list(self._tasks):
            task.cancel()
        self._close()
        self.link_path.unlink(missing_ok=True)

    def _open(self) -> None:
        master, slave, slave_name = open_raw_pty(self.link_path)  # raw: no echo, no line discipline
        os.set_blocking(master, False)
        self._fds, self._buffer = (master, slave), b""
        asyncio.get_running_loop().add_reader(master, self._readable)
        log.info("RTU unit %d on %s -> %s", self.unit, self.link_path, slave_name)

    def _close(self) -> None:
        if self._fds is None:
            return
        master, slave = self._fds
        asyncio.get_running_loop().remove_reader(master)
        os.close(master)
        os.close(slave)
        self._fds = None

    def _drop_link(self) -> None:
        """Simulate a cable pulled mid-frame: close this pty, offer a new one at the same link path."""
        self._close()
        self._open()

    def _send(self, data: bytes) -> None:
        if self._fds is not None:
            os.write(self._fds[0], data)

    def _readable(self) -> None:
        assert self._fds is not None
        try:
            self._buffer += os.read(self._fds[0], 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: no host has the slave side open right now
            return
        while self._buffer:
            used, request = self._framer.handleFrame(self._buffer, 0, 0)
            self._buffer = self._buffer[used:]
            if request is None:
                if len(self._buffer) > _MAX_JUNK:
                    log.warning("dropping %d unframed bytes", len(self._buffer))
                    self._buffer = b""
                return
            if request.dev_id != self.unit:
                continue  # another unit on the bus
            task = asyncio.get_running_loop().create_task(
                answer(request, self.instrument.image, self._framer, self.plan,
                       has_crc=True, send=self._send, drop_link=self._drop_link)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
