"""Options of the ASTM quantitative driver (validated at the edge) and loading its limits table."""

from __future__ import annotations

import codecs
from importlib import resources
from pathlib import Path
from typing import Literal

from protocols.astm import (
    DEFAULT_LIMITS_RESOURCE,
    MAX_MESSAGE_BYTES,
    MAX_RECORDS,
    SENDER_TIMEOUTS_S,
    ItemLimit,
    LimitsError,
    parse_limits,
)

from ..base import DriverConfigError
from ..options import Positive, PositiveInt, ReconnectOptions, parse_driver_options


class TextEncoding(str):
    """The name of a text encoding Python knows."""

    @classmethod
    def parse_value(cls, value: object) -> TextEncoding:
        """``value`` if ``codecs`` knows it; ValueError otherwise."""
        if not isinstance(value, str):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return cls(value)


class AstmOptions(ReconnectOptions, kw_only=True, frozen=True):
    """``[instruments.options]`` of an ``astm_quantitative`` instrument."""

    transport: Literal["serial", "tcp"] = "serial"
    """``serial``: a serial device; ``tcp``: the analyzer's line behind a serial server (TCP server mode)."""
    port: str | int
    """Serial: device path (or a symlink to it); TCP: port number."""
    host: str | None = None
    """TCP only: the serial server's address."""
    baudrate: PositiveInt = 9600
    receive_timeout_s: Positive = 30.0
    sender_timeout_s: Positive = SENDER_TIMEOUTS_S["reply"]
    """The instrument's reply timer: a message stored later than this after its final frame gets no ACK."""
    limits: str | None = None
    encoding: TextEncoding = TextEncoding("utf-8")
    reconnect_s: Positive = 0.5
    max_message_bytes: PositiveInt = MAX_MESSAGE_BYTES
    """Cap on one message's frames (STX..LF each); a bigger message is refused with NAKs."""
    max_records: PositiveInt = MAX_RECORDS
    """Cap on one message's records (H and L included); a message with more is refused."""

    def __post_init__(self) -> None:
        if self.transport == "tcp":
            if not self.host:
                raise ValueError("host: required when transport is tcp")
            if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
                raise ValueError(f"port: a TCP port number 1..65535 when transport is tcp, got {self.port!r}")
        elif not isinstance(self.port, str) or not self.port:
            raise ValueError(f"port: a serial device path when transport is serial, got {self.port!r}")
        elif self.host is not None:
            raise ValueError("host: only with transport = \"tcp\"")


def parse_options(options: dict[str, object]) -> AstmOptions:
    """Validate ``options``; the DriverConfigError names the first bad key and why."""
    return parse_driver_options(AstmOptions, options, "astm_quantitative")


def load_limits(path: str | None) -> dict[str, ItemLimit]:
    """The limits table from ``path``, or the packaged default; errors become DriverConfigError."""
    try:
        if path is None:
            package, name = DEFAULT_LIMITS_RESOURCE
            text = resources.files(package).joinpath(name).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return parse_limits(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise DriverConfigError(f"astm_quantitative option 'limits': cannot read {path!r}: {exc}") from None
    except LimitsError as exc:
        raise DriverConfigError(f"astm_quantitative option 'limits' ({path or 'default'}): {exc}") from None
