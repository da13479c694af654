"""The ``enzyme_inhibition`` driver's config section, validated at the edge."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator

from protocols.enzyme import VerdictRules

from ..base import DriverConfigError
from ..options import ReconnectOptions



class EnzymeOptions(ReconnectOptions):
    """Port settings, instrument clock offset, ack mode and the verdict profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    cutoff: float = Field(default=50.0, gt=0, le=100)
    min_control_delta_a: float = Field(default=0.3, ge=0)
    suspect_band: tuple[float, float] = (40.0, 50.0)
    ack: bool = True
    """Ack mode (doc §10): query on connect, acknowledge each reading once the sink stored it."""

    @field_validator("suspect_band")
    @classmethod
    def _band(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 <= low <= high <= 100:
            raise ValueError(f"{list(value)} needs 0 <= low <= high <= 100")
        return value

    @property
    def rules(self) -> VerdictRules:
        """The verdict profile in the protocol's decimal terms."""
        low, high = self.suspect_band
        return VerdictRules(_dec(self.cutoff), _dec(self.min_control_delta_a), (_dec(low), _dec(high)))


def _dec(value: float) -> Decimal:
    return Decimal(str(value))


def parse_options(options: dict[str, Any]) -> EnzymeOptions:
    """Validate a config section; the DriverConfigError names the first offending key."""
    try:
        return EnzymeOptions.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        key, *inner = first["loc"]
        where = f" (item {'.'.join(map(str, inner))})" if inner else ""
        raise DriverConfigError(f"enzyme_inhibition option {key!r}{where}: {first['msg']}") from exc
