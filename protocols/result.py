"""The canonical TestResult (wire contract §2) as a validated pydantic model.

Drivers build it, the gateway signs ``to_wire()``, the LIMS re-validates the
``result`` member of each envelope with ``TestResult.model_validate``.
More members may be added later; none of the contract's may be removed.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SiteKind = Literal["market", "supermarket", "school", "canteen", "station"]
TestKind = Literal["enzyme_inhibition", "colloidal_gold", "quantitative"]
Verdict = Literal["negative", "positive", "invalid"]
Control = Literal["sample", "negative_control", "positive_control", "blank"]
Transport = Literal["serial", "modbus-rtu", "modbus-tcp", "astm"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Site(_Strict):
    id: str
    kind: SiteKind
    name: str


class Instrument(_Strict):
    id: str
    model: str
    serial: str
    firmware: str
    driver: str


class Sample(_Strict):
    id: str | None = None
    name: str | None = None
    category: str | None = None
    origin: str | None = None
    supplier: str | None = None
    stall: str | None = None
    barcode: str | None = None


class TestSpec(_Strict):
    __test__ = False  # not a pytest test class
    item: str
    method: str
    kind: TestKind
    analyte: str | None = None


class Measurement(_Strict):
    """``value``/``unit``/``cutoff`` plus method-specific raw values (extra members)."""

    value: float | None
    unit: str
    cutoff: float | None

    @field_validator("value", "cutoff")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number (JCS cannot encode NaN/Inf)")
        return v


class QC(_Strict):
    control: Control = "sample"
    flags: list[str] = Field(default_factory=list)


class Raw(_Strict):
    transport: Transport
    encoding: Literal["base64"] = "base64"
    data: str


class TestResult(_Strict):
    """One instrument reading, attributable and traceable (contract §2)."""

    __test__ = False  # not a pytest test class

    id: str
    site: Site
    instrument: Instrument
    channel: int | str | None
    sample: Sample
    test: TestSpec
    measurement: Measurement
    verdict: Verdict
    qc: QC
    operator: str
    tested_at: str
    received_at: str
    raw: Raw

    @field_validator("tested_at", "received_at")
    @classmethod
    def _rfc3339_with_offset(cls, v: str) -> str:
        try:
            parsed = datetime.fromisoformat(v)
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 time: {v!r}") from exc
        if parsed.tzinfo is None:
            raise ValueError(f"RFC 3339 time needs an explicit offset: {v!r}")
        return v

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict that goes into an envelope's ``result`` member."""
        return self.model_dump(mode="json")
