"""Sample labels a technician queues on the room page, and how one is applied to a result.

A label names the sample that will be tested next on one instrument channel (or on any channel of
the instrument: ``channel=None``). The gateway binds it to the next sample result of that
instrument+channel when the result is committed (see ``gateway.label_store``); drivers never see it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta
from msgspec.structs import replace

from protocols._validation import from_json, to_builtins
from protocols.result import Control, TestResult
from protocols.text import PublicLine

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
Channel = int | str | None


class Text(PublicLine):
    """Typed text: NFC, zero-width characters dropped, whitespace collapsed; blank or control/format refused."""

    max_length = NAME_MAX


class Code(PublicLine):
    """A stall or barcode, cleaned like :class:`Text`."""

    max_length = CODE_MAX


def channel_key(channel: Channel) -> str | None:
    """How a channel is stored and compared: its text, or None for "any channel"."""
    return None if channel is None else str(channel)


class SampleLabel(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the technician says about the next sample on ``instrument``/``channel``."""

    instrument: Text
    channel: Annotated[int, Meta(ge=0)] | Annotated[str, Meta(min_length=1, max_length=16)] | None = None
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

    def __post_init__(self) -> None:
        for name, kind in _TEXT_FIELDS.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, PublicLine):  # built in code, not decoded
                try:
                    cleaned = kind.parse_value(value)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
                if cleaned != value:
                    raise ValueError(f"{name}: give the cleaned text {str(cleaned)!r}")
        if (self.kit_lot is None) != (self.kit_expiry is None):
            raise ValueError("kit_lot and kit_expiry go together: give both or neither")

    @classmethod
    def from_json(cls, text: str | bytes) -> SampleLabel:
        """A label from its stored form."""
        return from_json(text, cls)

    def to_json(self) -> str:
        """The stored form of the label (unset members left out)."""
        data = {key: value for key, value in to_builtins(self).items() if value is not None}
        return msgspec.json.encode(data).decode("utf-8")


_TEXT_FIELDS: dict[str, type[PublicLine]] = {
    "instrument": Text, "name": Text, "operator": Text, "stall": Code, "supplier": Text, "origin": Text,
    "barcode": Code, "sample_id": Text, "kit_lot": Text}


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
        extra = {**extra, "kit": {"lot": str(label.kit_lot), "expiry": label.kit_expiry.isoformat()}}
        if datetime.fromisoformat(result.tested_at).date() > label.kit_expiry and KIT_EXPIRED_FLAG not in flags:
            flags.append(KIT_EXPIRED_FLAG)
    return replace(
        result, sample=replace(result.sample, **{k: str(v) for k, v in sample.items() if v is not None}),
        operator=str(label.operator), qc=replace(result.qc, flags=flags, control=label.control), extra=extra,
    )
