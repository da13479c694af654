"""Sample labels a technician queues on the room page, and how one is applied to a result.

A label names the sample that will be tested next on one instrument channel (or on any channel of
the instrument: ``channel=None``). The gateway binds it to the next sample result of that
instrument+channel when the result is committed (see ``gateway.label_store``); drivers never see it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from msgspec.structs import replace
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from protocols.result import Control, TestResult
from protocols.text import public_line

UNLABELLED_FLAG = "unlabelled"
"""qc flag of a sample result committed with no label queued for its instrument+channel."""
KIT_EXPIRED_FLAG = "kit_expired"
"""qc flag of a result whose label names a kit lot past its expiry on the test date."""

Category = Literal["vegetable", "fruit", "meat", "aquatic", "other"]
CATEGORY_NAMES: dict[str, str] = {"vegetable": "蔬菜", "fruit": "水果", "meat": "肉类", "aquatic": "水产品",
                                  "other": "其他"}
"""Category code -> the Chinese term written into ``sample.category`` (the paper form's words)."""

NAME_MAX = 64
"""Longest sample name, supplier, origin, operator, sample id, kit lot or instrument id (after normalising)."""
CODE_MAX = 32
"""Longest stall or barcode (after normalising)."""
Text = Annotated[str, AfterValidator(public_line), StringConstraints(max_length=NAME_MAX)]
"""Typed text: NFC, zero-width characters dropped, whitespace collapsed; blank or control/format refused."""
Code = Annotated[str, AfterValidator(public_line), StringConstraints(max_length=CODE_MAX)]
Channel = int | str | None


def channel_key(channel: Channel) -> str | None:
    """How a channel is stored and compared: its text, or None for "any channel"."""
    return None if channel is None else str(channel)


class SampleLabel(BaseModel):
    """What the technician says about the next sample on ``instrument``/``channel``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: Text
    channel: Annotated[int, Field(ge=0)] | Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    name: Text
    category: Category
    operator: Text
    stall: Code | None = None
    supplier: Text | None = None
    origin: Text | None = None
    barcode: Code | None = None
    sample_id: Text | None = None
    kit_lot: Text | None = None
    kit_expiry: date | None = None
    control: Control = "sample"
    """``sample``, or the QC run this label marks: ``negative_control``, ``positive_control``, ``blank``."""

    @model_validator(mode="after")
    def _kit_lot_and_expiry_together(self) -> SampleLabel:
        if (self.kit_lot is None) != (self.kit_expiry is None):
            raise ValueError("kit_lot and kit_expiry go together: give both or neither")
        return self

    def to_json(self) -> str:
        """The stored form of the label."""
        return self.model_dump_json(exclude_none=True)


def apply_label(result: TestResult, label: SampleLabel | None) -> TestResult:
    """``result`` bound to ``label``; with no label, flagged ``unlabelled`` instead.

    The label's sample fields replace the driver's, except a driver-provided ``sample.id`` is kept
    when the label has none. ``operator`` comes from the label; ``kit`` {lot, expiry} is added;
    ``qc.control`` is the label's (a control run is marked on the room page, not by the instrument).
    """
    flags = list(result.qc.flags)
    if label is None:
        if UNLABELLED_FLAG not in flags:
            flags.append(UNLABELLED_FLAG)
        return replace(result, qc=replace(result.qc, flags=flags))
    sample: dict[str, Any] = {
        "name": label.name, "category": CATEGORY_NAMES[label.category], "stall": label.stall,
        "supplier": label.supplier, "origin": label.origin, "barcode": label.barcode,
        "id": label.sample_id or result.sample.id,
    }
    extra = result.extra
    if label.kit_lot is not None and label.kit_expiry is not None:
        extra = {**extra, "kit": {"lot": label.kit_lot, "expiry": label.kit_expiry.isoformat()}}
        if datetime.fromisoformat(result.tested_at).date() > label.kit_expiry and KIT_EXPIRED_FLAG not in flags:
            flags.append(KIT_EXPIRED_FLAG)
    return replace(
        result, sample=replace(result.sample, **{k: v for k, v in sample.items() if v is not None}),
        operator=label.operator, qc=replace(result.qc, flags=flags, control=label.control), extra=extra,
    )
