"""Validated options of the ``serial_line_profile`` driver (the gateway config section)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from ..base import DriverConfigError
from ..options import ReconnectOptions


class SerialLineOptions(ReconnectOptions):
    """Which profile, which serial port, how fast to reconnect; ``timezone`` from the base."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = Field(min_length=1)
    """Built-in line profile name (``ny10-line``) or a path to a ``.toml`` profile."""
    port: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)


def parse_options(options: dict[str, Any]) -> SerialLineOptions:
    """Validate ``options``; DriverConfigError names the key and the problem."""
    try:
        return SerialLineOptions.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise DriverConfigError(f"serial_line_profile option {key!r}: {err['msg']}") from exc
