"""Load and check a line profile: TOML text → validated :class:`Profile`, or a LineProfileError saying where.

Reading a profile file is the one file access of this package; it happens at configuration time.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

from ..profile_kind import ProfileKind
from ._schema import Constant, Profile
from .errors import LineProfileError

_NUMERIC = {"int", "float"}
_ANY = {"int", "float", "str", "datetime"}


def _reference_problems(profile: Profile) -> Iterator[tuple[list[str], str]]:
    """Cross-references: pattern groups ↔ field specs, and every name used must exist with a fitting type."""
    groups = set(profile.regex.groupindex)
    fields = profile.fields
    checksum = profile.checksum
    for name in fields:
        if name not in groups:
            yield ["fields", name], f"no named group {name!r} in line.pattern (groups: {', '.join(sorted(groups))})"
    for name in sorted(groups - set(fields) - {checksum.field}):
        yield ["line", "pattern"], f"named group {name!r} has no [fields.{name}] spec"
    for key in ("field", "span_start", "span_end"):
        name = getattr(checksum, key)
        if name is not None and name not in groups:
            yield ["checksum", key], f"no named group {name!r} in line.pattern"

    def check(path: list[str], source: object, want: set[str]) -> Iterator[tuple[list[str], str]]:
        if source is None or isinstance(source, Constant):
            return
        assert isinstance(source, str)
        if source not in fields:
            yield path, f"no field {source!r} in [fields] (known: {', '.join(sorted(fields))})"
        elif fields[source].type not in want:
            yield path, f"field {source!r} is {fields[source].type}; expected one of {', '.join(sorted(want))}"

    m = profile.mapping
    yield from check(["mapping", "value"], m.value, _NUMERIC)
    yield from check(["mapping", "unit"], m.unit, {"str"})
    yield from check(["mapping", "cutoff"], m.cutoff, _NUMERIC)
    yield from check(["mapping", "channel"], m.channel, {"int", "str"})
    yield from check(["mapping", "serial"], m.serial, {"int", "str"})
    yield from check(["mapping", "sample_code"], m.sample_code, {"int", "str"})
    yield from check(["mapping", "tested_at"], m.tested_at, {"datetime"})
    yield from check(["mapping", "instrument_verdict"], m.instrument_verdict, _ANY)
    if isinstance(m.cutoff, Constant) and not isinstance(m.cutoff.constant, float | int):
        yield ["mapping", "cutoff"], "a constant cutoff must be a number"
    if isinstance(m.unit, Constant) and not isinstance(m.unit.constant, str):
        yield ["mapping", "unit"], "a constant unit must be a string"
    if profile.verdict.invalid is not None:
        yield from check(["verdict", "invalid", "field"], profile.verdict.invalid.field, _NUMERIC)


def _is_line_profile(text: str) -> bool:
    try:
        return "line" in tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False


_KIND = ProfileKind("line profile", Profile, LineProfileError, _reference_problems, _is_line_profile)
load_profile = _KIND.load
parse_profile = _KIND.parse
builtin_names = _KIND.builtin_names
load_builtin = _KIND.load_builtin
resolve_profile = _KIND.resolve
