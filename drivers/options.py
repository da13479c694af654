"""Option pieces the drivers share: the instrument clock's UTC offset, the reconnect backoff."""

from __future__ import annotations

import re
import datetime as dt
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .link_watch import Backoff

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
    def tzinfo(self) -> dt.timezone:
        """The instrument clock's fixed offset."""
        match = _OFFSET.fullmatch(self.timezone)
        assert match is not None  # checked by the validator
        delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
        return dt.timezone(-delta if match[1] == "-" else delta)


class ReconnectOptions(InstrumentClockOptions):
    """How a lost link is retried: first after ``reconnect_s``, doubling up to ``reconnect_max_s``."""

    reconnect_s: float = Field(default=2.0, gt=0)
    """Wait before the first attempt to reopen a lost link."""
    reconnect_max_s: float = Field(default=30.0, gt=0)
    """Longest wait between attempts while the link stays away."""

    def backoff(self) -> Backoff:
        """A fresh backoff of these waits."""
        return Backoff(self.reconnect_s, self.reconnect_max_s)
