"""The ASTM quantitative driver's I/O: serial port or TCP (serial server), receiver machine, timers, durable ACK.

Bytes from the port go into ``AstmLinkReceiver``; its ACK/NAK bytes go back out. When a message
is complete, every TestResult of it is awaited into the sink *before* the ACK of its final frame
is written: the instrument treats that ACK as delivery. If the commit ends more than
``sender_timeout_s`` after the final frame arrived, that ACK is not written at all: the instrument
has given up on the transfer and will resend the message (its results are then known by their
source keys), and a late ACK would be read as the reply to its next ENQ or frame.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any


from protocols.astm import (
    AstmLinkReceiver,
    BytesDiscarded,
    DuplicateFrame,
    EstablishmentRequested,
    Event,
    FrameAccepted,
    FrameRejected,
    MessageComplete,
    MessageTooLarge,
    RecordError,
    TimeoutExpired,
    TransferTerminated,
    parse_message,
)
from protocols.need_data import NEED_DATA

from ..base import Driver, DriverContext, ResultSink, serial_path
from ..link_watch import LinkWatch
from ..stream_link import SerialPort, TcpPort, keep_link
from .mapping import DRIVER_NAME, readings
from .options import load_limits, parse_options

log = logging.getLogger(__name__)
_FRAME_EVENTS = (EstablishmentRequested, FrameAccepted, FrameRejected, DuplicateFrame, MessageTooLarge)


class AstmQuantitativeDriver(Driver):
    """FS-Q8 multi-item analyzer over ASTM E1381/E1394 on a serial port (9600 8N1) or behind a serial server."""

    name = DRIVER_NAME

    def __init__(self, options: dict[str, Any], context: DriverContext) -> None:
        super().__init__(options, context)
        self.config = parse_options(options)
        self.limits = load_limits(self.config.limits)
        self.port_open = asyncio.Event()
        """Set while the serial port or TCP connection is open (tests and status pages wait on it)."""

    @property
    def serial_device(self) -> str | None:
        """The configured serial port (see ``serial_path``)."""
        port = self.config.port
        return serial_path(port) if self.config.transport == "serial" and isinstance(port, str) else None

    async def run(self, sink: ResultSink) -> None:
        """Read the port forever; reopen it with backoff after errors; return only when cancelled."""
        watch = LinkWatch(log, f"astm {self.context.instrument_id}", lambda: self.link_listener,
                          {"instrument_id": self.context.instrument_id})
        config = self.config
        port: SerialPort | TcpPort
        if config.transport == "tcp":
            assert config.host is not None and isinstance(config.port, int)  # checked by the options
            port = TcpPort(config.host, config.port)
        else:
            port = SerialPort(str(config.port), config.baudrate)
        await keep_link(port, lambda reader, writer: self._open_session(reader, writer, sink), watch,
                               self.config.backoff())

    async def _open_session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            sink: ResultSink) -> str:
        """``_session`` with ``port_open`` set meanwhile."""
        self.port_open.set()
        try:
            return await self._session(reader, writer, sink)
        finally:
            self.port_open.clear()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sink: ResultSink) -> str:
        """One open port: a fresh receiver, fed until the port fails."""
        receiver = AstmLinkReceiver(self.config.max_message_bytes, self.config.max_records)
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel on 3.11
                    data = await reader.read(4096)
            except TimeoutError:
                receiver.timeout()
            else:
                if not data:
                    return "end of file"
                receiver.receive_data(data)
            restart_timer = await self._handle_events(receiver, writer, sink, loop.time())
            if receiver.waiting_for is None:
                deadline = None
            elif restart_timer or deadline is None:
                deadline = loop.time() + self.config.receive_timeout_s

    async def _handle_events(self, receiver: AstmLinkReceiver, writer: asyncio.StreamWriter,
                             sink: ResultSink, arrived: float) -> bool:
        """Act on every pending event of bytes read at loop time ``arrived``; True when a frame or ENQ
        arrived (restart the receive timer)."""
        frame_seen = False
        while (event := receiver.next_event()) is not NEED_DATA:
            self._log(event)
            frame_seen = frame_seen or isinstance(event, _FRAME_EVENTS)
            if isinstance(event, MessageComplete):
                await self._write(writer, receiver.data_to_send())
                await self._store(event, sink)
                receiver.confirm_message(ack=self._in_time(arrived))
            await self._write(writer, receiver.data_to_send())
        return frame_seen

    def _in_time(self, arrived: float) -> bool:
        """True while the instrument still waits for the final ACK of a frame that arrived at ``arrived``."""
        elapsed = asyncio.get_running_loop().time() - arrived
        if elapsed <= self.config.sender_timeout_s:
            return True
        log.warning("astm %s: message stored %.1f s after its final frame, past the instrument's %.1f s reply "
                    "timer: final ACK withheld, the instrument resends the message and its results are not "
                    "stored again", self.context.instrument_id, elapsed, self.config.sender_timeout_s)
        return False

    async def _store(self, event: MessageComplete, sink: ResultSink) -> None:
        """Parse the message and await the sink for each of its results (errors are logged)."""
        try:
            message = parse_message(event.text, self.config.encoding)
        except RecordError as exc:
            log.error("astm %s: message dropped, %s; raw=%r", self.context.instrument_id, exc, event.raw)
            return
        for error in message.errors:
            log.error("astm %s: record skipped, %s", self.context.instrument_id, error)
        for reading in readings(message, event.raw, self.limits, self.context, self.config.tzinfo):
            stored = await sink(reading.result, reading.source_key)
            if not stored:
                log.info("astm %s: %s already stored", self.context.instrument_id, reading.source_key)

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
        if data:
            writer.write(data)
            await writer.drain()

    def _log(self, event: Event) -> None:
        if isinstance(event, FrameRejected) and event.reason == "message_too_large":
            log.info("astm %s: NAK %d-byte frame of the refused message", self.context.instrument_id,
                     len(event.data))
        elif isinstance(event, FrameRejected):
            log.warning("astm %s: NAK %s at byte %d of %r", self.context.instrument_id, event.reason,
                        event.offset, event.data)
        elif isinstance(event, MessageTooLarge):
            log.error("astm %s: %s", self.context.instrument_id, event.describe())
        elif isinstance(event, BytesDiscarded):
            log.info("astm %s: %d noise bytes discarded", self.context.instrument_id, len(event.data))
        elif isinstance(event, TimeoutExpired | DuplicateFrame):
            log.warning("astm %s: %s", self.context.instrument_id, event)
        elif isinstance(event, TransferTerminated) and event.partial:
            log.warning("astm %s: transfer ended (%s) mid-message, %d bytes dropped", self.context.instrument_id,
                        event.reason, len(event.partial))
        else:
            log.debug("astm %s: %s", self.context.instrument_id, event)
