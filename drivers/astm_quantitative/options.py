"""Options of the ASTM quantitative driver (validated at the edge) and loading its limits table."""

from __future__ import annotations

import codecs
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

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
from ..options import ReconnectOptions


class AstmOptions(ReconnectOptions):
    """``[instruments.options]`` of an ``astm_quantitative`` instrument."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transport: Literal["serial", "tcp"] = "serial"
    """``serial``: a serial device; ``tcp``: the analyzer's line behind a serial server (TCP server mode)."""
    port: str | int
    """Serial: device path (or a symlink to it); TCP: port number."""
    host: str | None = None
    """TCP only: the serial server's address."""
    baudrate: int = Field(default=9600, gt=0)
    receive_timeout_s: float = Field(default=30.0, gt=0)
    sender_timeout_s: float = Field(default=SENDER_TIMEOUTS_S["reply"], gt=0)
    """The instrument's reply timer: a message stored later than this after its final frame gets no ACK."""
    limits: str | None = None
    encoding: str = "utf-8"
    reconnect_s: float = Field(default=0.5, gt=0)
    max_message_bytes: int = Field(default=MAX_MESSAGE_BYTES, gt=0, strict=True)
    """Cap on one message's frames (STX..LF each); a bigger message is refused with NAKs."""
    max_records: int = Field(default=MAX_RECORDS, gt=0, strict=True)
    """Cap on one message's records (H and L included); a message with more is refused."""

    @model_validator(mode="after")
    def _link_fits_transport(self) -> AstmOptions:
        if self.transport == "tcp":
            if not self.host:
                raise ValueError("host: required when transport is tcp")
            if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
                raise ValueError(f"port: a TCP port number 1..65535 when transport is tcp, got {self.port!r}")
        elif not isinstance(self.port, str) or not self.port:
            raise ValueError(f"port: a serial device path when transport is serial, got {self.port!r}")
        elif self.host is not None:
            raise ValueError("host: only with transport = \"tcp\"")
        return self

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return value


def parse_options(options: dict[str, object]) -> AstmOptions:
    """Validate ``options``; the DriverConfigError names the first bad key and why."""
    try:
        return AstmOptions.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        problem = str(error["msg"]).removeprefix("Value error, ")
        if not key:  # a cross-field check: its message starts with "<key>: "
            key, _, problem = problem.partition(": ")
        raise DriverConfigError(f"astm_quantitative option {key!r}: {problem}") from None


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
