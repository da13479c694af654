"""Pydantic models of a Modbus instrument profile (documented in docs/profiles.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RegisterType = Literal["uint16", "int16", "uint32", "int32", "float32", "string"]
RegisterTable = Literal["holding", "input"]
Order = Literal["big", "little"]
Address = Annotated[int, Field(ge=0, le=0xFFFF)]

NATURAL_WORDS: dict[str, int] = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Model):
    """One value in a register block: where it is and how its words become a value."""

    address: Address
    type: RegisterType
    words: int = Field(default=0, ge=0, le=125)
    """Register count; implied for numbers, required for strings (2 ASCII chars per register)."""
    word_order: Order = "big"
    """``big``: first register holds the most significant word (ABCD); ``little``: CDAB."""
    byte_order: Order = "big"
    """``big``: high byte first inside a register (the Modbus norm); ``little``: bytes swapped."""
    scale: float = 1.0
    offset: float = 0.0
    """Engineering value = raw × scale + offset (numbers only)."""

    @model_validator(mode="after")
    def _words_fit_type(self) -> FieldSpec:
        natural = NATURAL_WORDS.get(self.type)
        if natural is None:
            if self.words < 1:
                raise ValueError("a string field needs words >= 1 (2 characters per register)")
        elif self.words == 0:
            object.__setattr__(self, "words", natural)
        elif self.words != natural:
            raise ValueError(f"type {self.type} takes {natural} register(s), not words = {self.words}")
        if self.type == "string" and (self.scale != 1.0 or self.offset != 0.0):
            raise ValueError("scale/offset do not apply to a string field")
        return self


class RegisterBlock(_Model):
    """A run of registers read in one request, and the fields inside it."""

    table: RegisterTable = "holding"
    start: Address
    count: int = Field(ge=1, le=125)
    fields: dict[str, FieldSpec]

    @model_validator(mode="after")
    def _fields_inside(self) -> RegisterBlock:
        end = self.start + self.count
        for name, spec in self.fields.items():
            if spec.address < self.start or spec.address + spec.words > end:
                raise ValueError(
                    f"field {name!r} (registers {spec.address}..{spec.address + spec.words - 1}) "
                    f"lies outside the block {self.start}..{end - 1}"
                )
        return self


class ReadyFlag(_Model):
    """The register polled when idle; a result waits when ``value & mask`` is non-zero."""

    table: RegisterTable = "holding"
    address: Address
    mask: int = Field(default=0xFFFF, ge=1, le=0xFFFF)


class Ack(_Model):
    """How the host acknowledges a committed result.

    ``write_sequence``: write the result's sequence, encoded like the sequence field, at ``address``.
    ``write_value``: write the constant ``value`` (one register) at ``address``.
    """

    kind: Literal["write_sequence", "write_value"]
    address: Address
    value: int | None = Field(default=None, ge=0, le=0xFFFF)

    @model_validator(mode="after")
    def _value_matches_kind(self) -> Ack:
        if self.kind == "write_value" and self.value is None:
            raise ValueError("ack kind write_value needs value")
        if self.kind == "write_sequence" and self.value is not None:
            raise ValueError("ack kind write_sequence takes no value (it writes the sequence)")
        return self


class Handshake(_Model):
    ready: ReadyFlag
    sequence: str
    """Name of the result-block field holding the result sequence counter."""
    ack: Ack


class AnalyteEntry(_Model):
    analyte: str
    """Stable English key, e.g. ``clenbuterol``."""
    item: str
    """Test item as the paper form names it, e.g. ``克伦特罗``."""


class ResultMapping(_Model):
    """Which result-block fields feed which TestResult members."""

    analyte_code: str
    channel: str | None = None
    t: str
    c: str
    kit_lot: str | None = None
    sample_code: str | None = None
    tested_at: list[str] = Field(min_length=6, max_length=6)
    """Fields for year, month, day, hour, minute, second (instrument local time)."""


class VerdictRule(_Model):
    """Competitive assay: C < c_min → invalid; ratio ≤ cutoff → positive; else negative."""

    kind: Literal["competitive_ratio"]
    c_min: float
    ratio: str
    """Result-block field holding T/C."""
    cutoff: str | None = None
    """Result-block field holding the cutoff the instrument applied; else ``cutoffs`` is used."""
    cutoffs: dict[str, float] = Field(default_factory=dict)
    """Cutoff per analyte key, used when ``cutoff`` is not set or the field is absent."""

    @model_validator(mode="after")
    def _has_cutoff_source(self) -> VerdictRule:
        if self.cutoff is None and not self.cutoffs:
            raise ValueError("set cutoff (a field name) or a cutoffs table")
        return self


class ProfileInfo(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    vendor: str
    model: str
    test_kind: Literal["enzyme_inhibition", "colloidal_gold", "quantitative"]
    method: str
    unit: str


class Profile(_Model):
    """A whole instrument profile: identity, result block, handshake, mapping, verdict."""

    profile: ProfileInfo
    identity: RegisterBlock
    result: RegisterBlock
    handshake: Handshake
    analytes: dict[int, AnalyteEntry]
    mapping: ResultMapping
    verdict: VerdictRule

    @field_validator("analytes", mode="before")
    @classmethod
    def _codes_decimal_or_hex(cls, value: object) -> object:
        """TOML keys are strings: accept ``7`` and ``0x17`` alike."""
        if not isinstance(value, dict):
            return value
        out: dict[object, object] = {}
        for key, entry in value.items():
            try:
                out[int(key, 0) if isinstance(key, str) else key] = entry
            except ValueError:
                raise ValueError(f"analyte code {key!r} is not a decimal or 0x-hex integer") from None
        return out
