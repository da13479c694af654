"""``serial_line_profile`` driver: serial port → LineDecoder → our verdict → TestResult → sink. Reconnects.

A bad line is logged with its byte offset (counted from when the port was opened) and dropped;
decoding goes on with the next line. The instrument only talks, so there is nothing to acknowledge.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import serial

from protocols.line_profile import NEED_DATA, LineDecoder, LineError, LineProfileError, Profile, interpret
from protocols.line_profile import resolve_profile as _resolve

from ..base import DriverConfigError, DriverContext, ResultSink
from ..serial_driver import SerialPortDriver
from ..link_watch import LinkWatch
from ..stream_link import SerialPort, keep_link
from ._options import SerialLineOptions, parse_options
from ._result import DRIVER_NAME, build_result, source_key

logger = logging.getLogger(__name__)

_READ_CHUNK = 4096


@functools.cache
def _builtin(name: str) -> Profile:
    return _resolve(name)


def resolve_profile(name_or_path: str) -> Profile:
    """A built-in profile (parsed once per process) or a profile file (read at every driver start)."""
    if "/" not in name_or_path and not name_or_path.endswith(".toml"):
        return _builtin(name_or_path)
    return _resolve(name_or_path)


class SerialLineProfileDriver(SerialPortDriver[SerialLineOptions]):
    """Any line-based serial instrument a line profile describes (NY-10, ...)."""

    name = DRIVER_NAME

    def __init__(self, options: dict[str, Any], context: DriverContext) -> None:
        super().__init__(options, context)
        self.config = parse_options(options)
        try:
            self.profile = resolve_profile(self.config.profile)
        except LineProfileError as exc:
            raise DriverConfigError(f"serial_line_profile option 'profile': {exc}") from exc

    async def run(self, sink: ResultSink) -> None:
        """Open the port, read until it fails, reopen with backoff; forever until cancelled."""
        watch = LinkWatch(logger, f"line {self.context.instrument_id} ({self.profile.profile.model})",
                          lambda: self.link_listener, self._log_fields())
        port = SerialPort(self.config.port, self.config.baudrate)
        await keep_link(port, lambda reader, _writer: self._read_until_lost(reader, sink), watch,
                               self.config.backoff())

    async def _read_until_lost(self, reader: asyncio.StreamReader, sink: ResultSink) -> str:
        """Feed one connection's bytes through a fresh decoder; return why the connection ended."""
        decoder = LineDecoder(self.profile)
        while True:
            try:
                data = await reader.read(_READ_CHUNK)
                lost = "end of stream"
            except (OSError, serial.SerialException) as exc:
                data, lost = b"", str(exc)
            decoder.receive_data(data)  # b"" reports an unterminated line
            while (event := decoder.next_event()) is not NEED_DATA:
                if isinstance(event, LineError):
                    self._log_bad_line(event)
                else:
                    line = interpret(self.profile, event)
                    result = build_result(self.profile, event, line, self.config.tzinfo, self.context)
                    key = source_key(result, line)
                    if not await sink(result, key):
                        logger.info("reading %s already stored", key,
                                    extra=self._log_fields(event="duplicate_reading", source_key=key))
            if not data:
                return lost

    def _log_bad_line(self, error: LineError) -> None:
        logger.warning(
            "%s at byte %d: %s", error.kind, error.offset, error.detail,
            extra=self._log_fields(event="line_error", error_kind=error.kind, byte_offset=error.offset,
                                   error_detail=error.detail, data_hex=error.data.hex()),
        )
