"""msgspec structs of a Modbus instrument profile (documented in docs/profiles.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .._validation import Invalid, Problem

RegisterType = Literal["uint16", "int16", "uint32", "int32", "float32", "string"]
RegisterTable = Literal["holding", "input"]
Order = Literal["big", "little"]
Address = Annotated[int, Meta(ge=0, le=0xFFFF)]

NATURAL_WORDS: dict[str, int] = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2}


class _Model(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A profile table: unknown keys refused, read-only."""


class FieldSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One value in a register block: where it is and how its words become a value (``words`` filled in once)."""

    address: Address
    type: RegisterType
    words: Annotated[int, Meta(ge=0, le=125)] = 0
    """Register count; implied for numbers, required for strings (2 ASCII chars per register)."""
    word_order: Order = "big"
    """``big``: first register holds the most significant word (ABCD); ``little``: CDAB."""
    byte_order: Order = "big"
    """``big``: high byte first inside a register (the Modbus norm); ``little``: bytes swapped."""
    scale: float = 1.0
    offset: float = 0.0
    """Engineering value = raw × scale + offset (numbers only)."""

    def __post_init__(self) -> None:
        natural = NATURAL_WORDS.get(self.type)
        if natural is None:
            if self.words < 1:
                raise ValueError("a string field needs words >= 1 (2 characters per register)")
        elif self.words == 0:
            self.words = natural
        elif self.words != natural:
            raise ValueError(f"type {self.type} takes {natural} register(s), not words = {self.words}")
        if self.type == "string" and (self.scale != 1.0 or self.offset != 0.0):
            raise ValueError("scale/offset do not apply to a string field")


class RegisterBlock(_Model, kw_only=True, frozen=True):
    """A run of registers read in one request, and the fields inside it."""

    table: RegisterTable = "holding"
    start: Address
    count: Annotated[int, Meta(ge=1, le=125)]
    fields: dict[str, FieldSpec]

    def __post_init__(self) -> None:
        end = self.start + self.count
        for name, spec in self.fields.items():
            if spec.address < self.start or spec.address + spec.words > end:
                raise ValueError(
                    f"field {name!r} (registers {spec.address}..{spec.address + spec.words - 1}) "
                    f"lies outside the block {self.start}..{end - 1}"
                )


class ReadyFlag(_Model, kw_only=True, frozen=True):
    """The register polled when idle; a result waits when ``value & mask`` is non-zero."""

    table: RegisterTable = "holding"
    address: Address
    mask: Annotated[int, Meta(ge=1, le=0xFFFF)] = 0xFFFF


class Ack(_Model, kw_only=True, frozen=True):
    """How the host acknowledges a committed result.

    ``write_sequence``: write the result's sequence, encoded like the sequence field, at ``address``.
    ``write_value``: write the constant ``value`` (one register) at ``address``.
    """

    kind: Literal["write_sequence", "write_value"]
    address: Address
    value: Annotated[int, Meta(ge=0, le=0xFFFF)] | None = None

    def __post_init__(self) -> None:
        if self.kind == "write_value" and self.value is None:
            raise ValueError("ack kind write_value needs value")
        if self.kind == "write_sequence" and self.value is not None:
            raise ValueError("ack kind write_sequence takes no value (it writes the sequence)")


class Handshake(_Model, kw_only=True, frozen=True):
    ready: ReadyFlag
    sequence: str
    """Name of the result-block field holding the result sequence counter."""
    ack: Ack


class AnalyteEntry(_Model, kw_only=True, frozen=True):
    analyte: str
    """Stable English key, e.g. ``clenbuterol``."""
    item: str
    """Test item as the paper form names it, e.g. ``克伦特罗``."""


class ResultMapping(_Model, kw_only=True, frozen=True):
    """Which result-block fields feed which TestResult members."""

    analyte_code: str
    channel: str | None = None
    t: str
    c: str
    kit_lot: str | None = None
    sample_code: str | None = None
    tested_at: Annotated[list[str], Meta(min_length=6, max_length=6)]
    """Fields for year, month, day, hour, minute, second (instrument local time)."""


class VerdictRule(_Model, kw_only=True, frozen=True):
    """Competitive assay: C < c_min → invalid; ratio ≤ cutoff → positive; else negative."""

    kind: Literal["competitive_ratio"]
    c_min: float
    ratio: str
    """Result-block field holding T/C."""
    cutoff: str | None = None
    """Result-block field holding the cutoff the instrument applied; else ``cutoffs`` is used."""
    cutoffs: dict[str, float] = msgspec.field(default_factory=dict)
    """Cutoff per analyte key, used when ``cutoff`` is not set or the field is absent."""

    def __post_init__(self) -> None:
        if self.cutoff is None and not self.cutoffs:
            raise ValueError("set cutoff (a field name) or a cutoffs table")


class ProfileInfo(_Model, kw_only=True, frozen=True):
    name: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    vendor: str
    model: str
    test_kind: Literal["enzyme_inhibition", "colloidal_gold", "quantitative"]
    method: str
    unit: str


class Profile(_Model, kw_only=True, frozen=True):
    """A whole instrument profile: identity, result block, handshake, mapping, verdict."""

    profile: ProfileInfo
    identity: RegisterBlock
    result: RegisterBlock
    handshake: Handshake
    analytes: dict[int, AnalyteEntry]
    mapping: ResultMapping
    verdict: VerdictRule


def analyte_codes_as_numbers(data: dict[str, Any]) -> dict[str, Any]:
    """TOML keys are text: ``[analytes]`` keys ``7`` and ``0x17`` alike become numbers before validation."""
    table = data.get("analytes")
    if not isinstance(table, dict):
        return data
    codes: dict[object, object] = {}
    for key, entry in table.items():
        try:
            codes[int(key, 0)] = entry
        except ValueError:
            raise Invalid([Problem(("analytes", key), f"analyte code {key!r} is not a decimal or 0x-hex integer",
                                   "value")]) from None
    return {**data, "analytes": codes}
