"""Driver plug-in registry: driver name -> ``module:Class``, imported on demand."""

from __future__ import annotations

import importlib
from typing import Any

from .base import Driver, DriverConfigError, DriverContext

BUILTIN: dict[str, str] = {
    "enzyme_inhibition": "drivers.enzyme_inhibition:EnzymeInhibitionDriver",
    "modbus_profile": "drivers.modbus_profile:ModbusProfileDriver",
    "astm_quantitative": "drivers.astm_quantitative:AstmQuantitativeDriver",
    "serial_line_profile": "drivers.serial_line_profile:SerialLineProfileDriver",
}


def available() -> list[str]:
    """Names of the drivers a config may use."""
    return sorted(BUILTIN)


def build(name: str, options: dict[str, Any], context: DriverContext) -> Driver:
    """Instantiate the driver registered as ``name``; unknown names raise DriverConfigError."""
    try:
        target = BUILTIN[name]
    except KeyError:
        raise DriverConfigError(f"unknown driver {name!r}; known: {', '.join(available())}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(options, context)
