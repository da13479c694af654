"""Base of the drivers that read one serial port (``port`` option): the device they name and log under."""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from .base import Driver, serial_path


class PortOptions(Protocol):
    """Options that name the port: a device path or a pyserial URL."""

    @property
    def port(self) -> str: ...


OptionsT = TypeVar("OptionsT", bound=PortOptions)


class SerialPortDriver(Driver, Generic[OptionsT]):
    """A driver on the serial port ``self.config.port`` (its subclass sets ``config``)."""

    config: OptionsT

    @property
    def serial_device(self) -> str | None:
        """The configured serial port (see ``serial_path``)."""
        return serial_path(self.config.port)

    def _log_fields(self, **fields: Any) -> dict[str, Any]:
        return {"instrument_id": self.context.instrument_id, "port": self.config.port, **fields}
