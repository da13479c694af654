"""Validated options of the ``serial_line_profile`` driver (the gateway config section)."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from ..options import PositiveInt, ReconnectOptions, parse_driver_options


class SerialLineOptions(ReconnectOptions, kw_only=True, frozen=True):
    """Which profile, which serial port, how fast to reconnect; ``timezone`` from the base."""

    profile: Annotated[str, Meta(min_length=1)]
    """Built-in line profile name (``ny10-line``) or a path to a ``.toml`` profile."""
    port: Annotated[str, Meta(min_length=1)]
    baudrate: PositiveInt = 9600


def parse_options(options: dict[str, Any]) -> SerialLineOptions:
    """Validate ``options``; DriverConfigError names the key and the problem."""
    return parse_driver_options(SerialLineOptions, options, "serial_line_profile")
