"""Option pieces every driver shares: the instrument clock's UTC offset."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

from pydantic import BaseModel, ConfigDict, field_validator

_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")


class InstrumentClockOptions(BaseModel):
    """Base of driver option models: ``timezone`` is the offset of the instrument's local clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "+08:00"
    """UTC offset (``±HH:MM``) of the instrument's clock, which sends local time without a zone."""

    @field_validator("timezone")
    @classmethod
    def _offset(cls, value: str) -> str:
        match = _OFFSET.fullmatch(value)
        if not match or int(match[2]) > 14 or int(match[3]) > 59:
            raise ValueError(f"{value!r} is not a UTC offset like '+08:00'")
        return value

    @property
    def tzinfo(self) -> timezone:
        """The instrument clock's fixed offset."""
        match = _OFFSET.fullmatch(self.timezone)
        assert match is not None  # checked by the validator
        delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
        return timezone(-delta if match[1] == "-" else delta)
