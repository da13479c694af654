"""msgspec structs of a line profile (documented in docs/profiles.md, "Serial line profiles")."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

FieldType = Literal["int", "float", "str", "datetime"]
TestKind = Literal["enzyme_inhibition", "colloidal_gold", "quantitative"]
VerdictKind = Literal["threshold_at_least", "ratio_at_most", "above_limit"]


class _Model(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A profile table: unknown keys refused, read-only."""


class Terminator(str):
    """1 or 2 distinct ASCII characters ending each line."""

    @classmethod
    def parse_value(cls, value: object) -> Terminator:
        """``value`` if it is such a terminator; ValueError says why not."""
        if not isinstance(value, str):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        if len(value) not in (1, 2) or (len(value) == 2 and value[0] == value[1]) or not value.isascii():
            raise ValueError(f"{value!r}: a terminator is 1 or 2 distinct ASCII characters, like '\\r\\n'")
        return cls(value)


class LinePattern(str):
    """A Python regular expression with at least one named group."""

    @classmethod
    def parse_value(cls, value: object) -> LinePattern:
        """``value`` if it compiles and names a group; ValueError says why not."""
        if not isinstance(value, str):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
        if not compiled.groupindex:
            raise ValueError("the pattern has no named groups (?P<name>...)")
        return cls(value)


class ProfileInfo(_Model, kw_only=True, frozen=True):
    name: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    vendor: str
    model: str
    kind: TestKind
    item: str
    method: str
    analyte: str | None = None


class LineFormat(_Model, kw_only=True, frozen=True):
    encoding: Literal["ascii", "latin-1"] = "ascii"
    terminator: Terminator = Terminator("\r\n")
    max_length: Annotated[int, Meta(ge=8, le=65536)] = 256
    """Longest line accepted, terminator excluded."""
    pattern: LinePattern
    """Python regex with named groups, matched against the whole line (``fullmatch``)."""


class Checksum(_Model, kw_only=True, frozen=True):
    kind: Literal["none", "xor8", "sum8"] = "none"
    field: str | None = None
    """Named group holding the two uppercase hex digits."""
    span_start: str | None = None
    span_end: str | None = None
    """Group names: the checksum covers the line from the start of ``span_start`` to the end of ``span_end``."""
    after: str | None = None
    before: str | None = None
    """Or: after the first ``after`` ("" = from the line start) up to the last ``before``."""

    def __post_init__(self) -> None:
        groups = self.span_start is not None or self.span_end is not None
        between = self.after is not None or self.before is not None
        if self.kind == "none":
            if self.field or groups or between:
                raise ValueError("checksum kind 'none' takes no field or span")
            return
        if not self.field:
            raise ValueError(f"checksum kind {self.kind!r} needs field (the group holding the checksum)")
        if groups == between:
            raise ValueError("give either span_start and span_end (group names) or after and before (text)")
        if groups and (self.span_start is None or self.span_end is None):
            raise ValueError("span_start and span_end go together")
        if between and not self.before:
            raise ValueError("before must be a non-empty text (the checksum ends before its last occurrence)")


class FieldSpec(_Model, kw_only=True, frozen=True):
    type: FieldType
    scale: float = 1.0
    format: str | None = None
    """strftime format of a ``datetime`` field."""

    def __post_init__(self) -> None:
        if self.type == "datetime" and not self.format:
            raise ValueError("a datetime field needs format (strftime, e.g. '%Y-%m-%d %H:%M:%S')")
        if self.type != "datetime" and self.format is not None:
            raise ValueError(f"format applies to datetime fields, not {self.type}")
        if self.type not in ("int", "float") and self.scale != 1.0:
            raise ValueError(f"scale applies to int and float fields, not {self.type}")


class Constant(_Model, kw_only=True, frozen=True):
    constant: float | str


Source = str | Constant
"""A field name, or ``{ constant = ... }``."""


class Mapping(_Model, kw_only=True, frozen=True):
    value: str
    unit: Source
    cutoff: Source
    channel: Source | None = None
    serial: Source | None = None
    sample_code: str | None = None
    tested_at: str | None = None
    instrument_verdict: str | None = None


class InvalidRule(_Model, kw_only=True, frozen=True):
    field: str
    min: float
    """The reading is ``invalid`` when ``field`` < ``min``."""


class VerdictRule(_Model, kw_only=True, frozen=True):
    kind: VerdictKind
    invalid: InvalidRule | None = None


class Profile(_Model, kw_only=True, frozen=True):
    profile: ProfileInfo
    line: LineFormat
    checksum: Checksum = msgspec.field(default_factory=Checksum)
    fields: dict[str, FieldSpec]
    mapping: Mapping
    verdict: VerdictRule
    simulator: dict[str, Any] | None = None
    """Read only by the simulator (``firmware_sim.line``); not checked here."""

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled line pattern (``re`` caches compilations)."""
        return re.compile(self.line.pattern)
