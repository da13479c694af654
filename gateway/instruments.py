"""Instrument drivers built from the gateway config, for the daemon and for ``check-config``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from drivers import registry
from drivers.base import Driver, DriverContext

from .config import GatewayConfig, InstrumentSection
from .errors import GatewayError


def build_driver(config: GatewayConfig, instrument: InstrumentSection, clock: Callable[[], datetime]) -> Driver:
    """Construct the instrument's driver (options and profiles are validated here; no I/O yet)."""
    context = DriverContext(site=config.site.to_site(), instrument_id=instrument.id,
                            operator=config.gateway.operator, clock=clock)
    try:
        return registry.build(instrument.driver, dict(instrument.options), context)
    except Exception as exc:  # a plug-in's constructor may raise anything on bad options
        raise GatewayError(f"instrument {instrument.id!r} (driver {instrument.driver}): {exc}") from exc

