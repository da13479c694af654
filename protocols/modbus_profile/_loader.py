"""Load and check a profile: TOML text → validated :class:`Profile`, or a ProfileError saying where.

Reading a profile file is the one file access of this package; it happens at configuration
time, never while talking to an instrument.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._errors import ProfileError
from ..profile_kind import ProfileKind
from ._schema import Profile, analyte_codes_as_numbers

_NUMERIC = {"uint16", "int16", "uint32", "int32", "float32"}


def _reference_problems(profile: Profile) -> Iterator[tuple[list[str], str]]:
    """Cross-references the schema cannot check field by field: names must exist and fit."""
    fields = profile.result.fields

    def check(path: list[str], name: str | None, want: set[str]) -> Iterator[tuple[list[str], str]]:
        if name is None:
            return
        if name not in fields:
            yield path, f"no field {name!r} in [result.fields] (known: {', '.join(sorted(fields))})"
        elif fields[name].type not in want:
            yield path, f"field {name!r} is {fields[name].type}; expected one of {', '.join(sorted(want))}"

    yield from check(["handshake", "sequence"], profile.handshake.sequence, {"uint16", "uint32"})
    m = profile.mapping
    yield from check(["mapping", "analyte_code"], m.analyte_code, {"uint16", "int16"})
    yield from check(["mapping", "channel"], m.channel, {"uint16", "int16"})
    yield from check(["mapping", "t"], m.t, _NUMERIC)
    yield from check(["mapping", "c"], m.c, _NUMERIC)
    yield from check(["mapping", "kit_lot"], m.kit_lot, {"string"})
    yield from check(["mapping", "sample_code"], m.sample_code, {"string"})
    for name in m.tested_at:
        yield from check(["mapping", "tested_at"], name, _NUMERIC - {"float32"})
    yield from check(["verdict", "ratio"], profile.verdict.ratio, _NUMERIC)
    yield from check(["verdict", "cutoff"], profile.verdict.cutoff, _NUMERIC)
    known = {entry.analyte for entry in profile.analytes.values()}
    for analyte in profile.verdict.cutoffs:
        if analyte not in known:
            yield ["verdict", "cutoffs", analyte], f"analyte {analyte!r} is not in [analytes]"
    for name in ("serial", "model", "firmware"):
        spec = profile.identity.fields.get(name)
        if spec is None or spec.type != "string":
            yield ["identity", "fields"], f"identity needs a string field {name!r}"


def _is_modbus_profile(text: str) -> bool:
    return "\n[handshake]" in text


_KIND = ProfileKind("profile", Profile, ProfileError, _reference_problems, _is_modbus_profile,
                    analyte_codes_as_numbers)
load_profile = _KIND.load
parse_profile = _KIND.parse
builtin_names = _KIND.builtin_names
load_builtin = _KIND.load_builtin
resolve_profile = _KIND.resolve
