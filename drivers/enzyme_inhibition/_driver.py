"""The EI-412 driver: serial port -> decoder -> assembler -> verdict -> TestResult -> sink -> ack.

A bad frame is logged with its byte offset (counted from when the port was opened) and
dropped; the decoder resynchronises on the next ``$``. In ack mode (doc §10) the driver
writes ``$Q`` on every connect and ``$K,run,channel`` only after ``sink`` has returned, so
the instrument keeps re-sending whatever this process read but never committed (even if
it was killed); re-sent readings dedupe on ``serial:run:channel``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NoReturn

import serial

from protocols.enzyme import (
    NEED_DATA,
    ChannelReading,
    EnzymeDecoder,
    FrameError,
    RunAssembler,
    RunError,
    ack_frame,
    judge_reading,
    query_frame,
)
from protocols.result import TestResult

from ..base import DriverContext, ResultSink
from ..serial_driver import SerialPortDriver
from ..link_watch import LinkWatch
from ..stream_link import SerialPort, keep_link
from ._mapping import DRIVER_NAME, reading_identity, to_test_result
from ._options import EnzymeOptions, parse_options

logger = logging.getLogger(__name__)

_READ_CHUNK = 4096


class _PortLost(Exception):
    """Writing to the port failed; the connection is over."""


class EnzymeInhibitionDriver(SerialPortDriver[EnzymeOptions]):
    """Reads an EI-412 (or compatible) enzyme-inhibition analyzer over RS-232."""

    name = DRIVER_NAME

    def __init__(self, options: dict[str, Any], context: DriverContext) -> None:
        super().__init__(options, context)
        self.config = parse_options(options)
        self.rules = self.config.rules

    def reading_identity(self, result: TestResult) -> bytes:
        """Control and channel frames, not the header: the SEND key may re-send a run with another time."""
        return reading_identity(result)

    async def run(self, sink: ResultSink) -> None:
        """Open the port, read until it fails, reopen with backoff; forever until cancelled.

        Instrument and port faults are logged and survived; an exception from ``sink`` propagates
        (and the reading it was given is not acknowledged).
        """
        watch = LinkWatch(logger, f"enzyme {self.context.instrument_id}", lambda: self.link_listener,
                          self._log_fields())
        port = SerialPort(self.config.port, self.config.baudrate)
        await keep_link(port, lambda reader, writer: self._serve_connection(reader, writer, sink), watch,
                               self.config.backoff())

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sink: ResultSink
    ) -> str:
        """Ask for unacknowledged runs, then read until the port is lost; return why."""
        try:
            if self.config.ack:
                await self._write(writer, query_frame())
            await self._read_until_lost(reader, writer, sink)
        except _PortLost as exc:
            return str(exc)

    async def _write(self, writer: asyncio.StreamWriter, frame: bytes) -> None:
        try:
            writer.write(frame)
            await writer.drain()
        except (OSError, serial.SerialException) as exc:
            raise _PortLost(f"write failed: {exc}") from exc

    async def _read_until_lost(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sink: ResultSink
    ) -> NoReturn:
        """Feed one connection's bytes through a fresh decoder until end of stream or read error."""
        decoder, assembler = EnzymeDecoder(), RunAssembler()
        while True:
            try:
                data = await reader.read(_READ_CHUNK)
            except (OSError, serial.SerialException) as exc:
                lost: object = exc
                data = b""
            else:
                lost = "end of stream"
            decoder.receive_data(data)  # b"" reports a frame cut short
            while (event := decoder.next_event()) is not NEED_DATA:
                if isinstance(event, FrameError):
                    self._log_bad_bytes(event)
                    continue
                for item in assembler.add(event):
                    if isinstance(item, RunError):
                        self._log_bad_bytes(item)
                    else:
                        await self._deliver(item, sink, writer)
            if not data:
                raise _PortLost(lost)

    async def _deliver(self, reading: ChannelReading, sink: ResultSink, writer: asyncio.StreamWriter) -> None:
        """Hand the result to the sink; once it returned (stored or duplicate), acknowledge it."""
        result = to_test_result(reading, judge_reading(reading, self.rules), self.context, self.config)
        stored = await sink(result, reading.source_key)
        if not stored:
            logger.info(
                "reading %s already stored (re-sent run)",
                reading.source_key,
                extra=self._log_fields(event="duplicate_reading", source_key=reading.source_key),
            )
        if self.config.ack:
            await self._write(writer, ack_frame(reading.header.run, reading.measurement.channel))

    def _log_bad_bytes(self, error: FrameError | RunError) -> None:
        logger.warning(
            "%s at byte %d: %s",
            error.kind,
            error.offset,
            error.detail,
            extra=self._log_fields(
                event="frame_error" if isinstance(error, FrameError) else "run_error",
                error_kind=error.kind,
                byte_offset=error.offset,
                error_detail=error.detail,
                data_hex=error.data.hex(),
            ),
        )
