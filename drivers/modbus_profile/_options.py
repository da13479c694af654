"""Validated options of the ``modbus_profile`` driver (the gateway config section)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from ..base import DriverConfigError
from ..options import ReconnectOptions



class ModbusProfileOptions(ReconnectOptions):
    """One instrument: which profile, which link, how to poll."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = Field(min_length=1)
    """Built-in profile name (``gr100``, ``huaxin-cg8``) or a path to a ``.toml`` profile."""
    transport: Literal["rtu", "tcp"]
    port: str | int
    """RTU: serial device path; TCP: port number."""
    host: str | None = None
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    unit: int = Field(default=1, ge=0, le=247)
    """Modbus unit id (slave / device id)."""
    poll_interval_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=1.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    identity_check_s: float = Field(default=60.0, ge=0)
    """Read the identity block again before a result when it is older than this (0: before every result)."""
    reconnect_s: float = Field(default=2.0, ge=0)
    """Wait before the first reconnect (0: at once), doubling up to ``reconnect_max_s``."""

    @model_validator(mode="after")
    def _link_fits_transport(self) -> ModbusProfileOptions:
        if self.transport == "tcp":
            if not self.host:
                raise ValueError("host: required when transport is tcp")
            if not isinstance(self.port, int) or not 0 < self.port < 65536:
                raise ValueError(f"port: a TCP port number 1..65535 when transport is tcp, got {self.port!r}")
        elif not isinstance(self.port, str):
            raise ValueError(f"port: a serial device path when transport is rtu, got {self.port!r}")
        return self

    @property
    def link(self) -> str:
        """Human name of the link, for log lines."""
        return f"tcp://{self.host}:{self.port}" if self.transport == "tcp" else f"rtu:{self.port}@{self.baudrate}"


def parse_options(options: dict[str, Any]) -> ModbusProfileOptions:
    """Validate ``options``; DriverConfigError names the key and the problem."""
    try:
        return ModbusProfileOptions.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        problem = str(err["msg"]).removeprefix("Value error, ")
        key = ".".join(str(p) for p in err["loc"])
        if not key:  # a cross-field check: its message starts with "<key>: "
            key, _, problem = problem.partition(": ")
        raise DriverConfigError(f"modbus_profile option {key!r}: {problem}") from exc
