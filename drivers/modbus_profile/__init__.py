"""Profile-driven Modbus RTU/TCP driver (colloidal-gold readers and any vendor with a profile)."""

from ._driver import ModbusProfileDriver
from ._link import LinkError
from ._options import ModbusProfileOptions, parse_options

__all__ = ["LinkError", "ModbusProfileDriver", "ModbusProfileOptions", "parse_options"]
