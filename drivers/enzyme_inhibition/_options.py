"""The ``enzyme_inhibition`` driver's config section, validated at the edge."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from msgspec import Meta

from protocols.enzyme import VerdictRules

from ..options import PositiveInt, ReconnectOptions, parse_driver_options

class EnzymeOptions(ReconnectOptions, kw_only=True, frozen=True):
    """Port settings, instrument clock offset, ack mode and the verdict profile."""

    port: Annotated[str, Meta(min_length=1)]
    baudrate: PositiveInt = 9600
    cutoff: Annotated[float, Meta(gt=0, le=100)] = 50.0
    min_control_delta_a: Annotated[float, Meta(ge=0)] = 0.3
    suspect_band: tuple[float, float] = (40.0, 50.0)
    ack: bool = True
    """Ack mode (doc §10): query on connect, acknowledge each reading once the sink stored it."""

    def __post_init__(self) -> None:
        low, high = self.suspect_band
        if not 0 <= low <= high <= 100:
            raise ValueError(f"suspect_band: {[low, high]} needs 0 <= low <= high <= 100")

    @property
    def rules(self) -> VerdictRules:
        """The verdict profile in the protocol's decimal terms."""
        low, high = self.suspect_band
        return VerdictRules(_dec(self.cutoff), _dec(self.min_control_delta_a), (_dec(low), _dec(high)))


def _dec(value: float) -> Decimal:
    return Decimal(str(value))


def parse_options(options: dict[str, Any]) -> EnzymeOptions:
    """Validate a config section; the DriverConfigError names the first offending key."""
    return parse_driver_options(EnzymeOptions, options, "enzyme_inhibition")
