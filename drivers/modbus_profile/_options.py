"""Validated options of the ``modbus_profile`` driver (the gateway config section)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from ..options import Positive, PositiveInt, ReconnectOptions, parse_driver_options

class ModbusProfileOptions(ReconnectOptions, kw_only=True, frozen=True):
    """One instrument: which profile, which link, how to poll."""

    profile: Annotated[str, Meta(min_length=1)]
    """Built-in profile name (``gr100``, ``huaxin-cg8``) or a path to a ``.toml`` profile."""
    transport: Literal["rtu", "tcp"]
    port: str | int
    """RTU: serial device path; TCP: port number."""
    host: str | None = None
    baudrate: PositiveInt = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    unit: Annotated[int, Meta(ge=0, le=247)] = 1
    """Modbus unit id (slave / device id)."""
    poll_interval_s: Positive = 1.0
    timeout_s: Positive = 1.0
    retries: Annotated[int, Meta(ge=0, le=10)] = 2
    identity_check_s: Annotated[float, Meta(ge=0)] = 60.0
    """Read the identity block again before a result when it is older than this (0: before every result)."""
    reconnect_s: Annotated[float, Meta(ge=0)] = 2.0
    """Wait before the first reconnect (0: at once), doubling up to ``reconnect_max_s``."""

    def __post_init__(self) -> None:
        if self.transport == "tcp":
            if not self.host:
                raise ValueError("host: required when transport is tcp")
            if not isinstance(self.port, int) or not 0 < self.port < 65536:
                raise ValueError(f"port: a TCP port number 1..65535 when transport is tcp, got {self.port!r}")
        elif not isinstance(self.port, str):
            raise ValueError(f"port: a serial device path when transport is rtu, got {self.port!r}")

    @property
    def link(self) -> str:
        """Human name of the link, for log lines."""
        return f"tcp://{self.host}:{self.port}" if self.transport == "tcp" else f"rtu:{self.port}@{self.baudrate}"


def parse_options(options: dict[str, Any]) -> ModbusProfileOptions:
    """Validate ``options``; DriverConfigError names the key and the problem."""
    return parse_driver_options(ModbusProfileOptions, options, "modbus_profile")
