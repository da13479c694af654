"""Load and check a profile: TOML text → validated :class:`Profile`, or a ProfileError saying where.

Reading a profile file is the one file access of this package; it happens at configuration
time, never while talking to an instrument.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path


from ._errors import ProfileError
from ..toml_lines import read_source, validate_toml
from ._schema import Profile

_BUILTIN_PACKAGE = "protocols.profiles"
_NUMERIC = {"uint16", "int16", "uint32", "int32", "float32"}


def load_profile(source: str | Path) -> Profile:
    """Parse a profile from a file (``Path``) or from TOML text (``str``); raise ProfileError."""
    return parse_profile(*read_source(source, ProfileError))


def parse_profile(text: str, source: str) -> Profile:
    """Validate profile TOML ``text``; ``source`` names it in errors."""
    return validate_toml(text, source, Profile, ProfileError, _reference_problems)


def _reference_problems(profile: Profile) -> Iterator[tuple[list[str], str]]:
    """Cross-references pydantic cannot check field by field: names must exist and fit."""
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


def builtin_names() -> list[str]:
    """Names of the Modbus profiles shipped in ``protocols/profiles`` (those with a ``[handshake]`` table)."""
    folder = resources.files(_BUILTIN_PACKAGE)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml") and "\n[handshake]" in p.read_text("utf-8"))


def load_builtin(name: str) -> Profile:
    """Load the built-in profile ``name`` (e.g. ``"gr100"``)."""
    if name not in builtin_names():
        raise ProfileError(name, None, "", f"no built-in profile {name!r}; known: {', '.join(builtin_names())}")
    resource = resources.files(_BUILTIN_PACKAGE) / f"{name}.toml"
    return parse_profile(resource.read_text("utf-8"), f"protocols/profiles/{name}.toml")


def resolve_profile(name_or_path: str) -> Profile:
    """A built-in name (no ``/`` and no ``.toml``) or a path to a profile file."""
    if "/" not in name_or_path and not name_or_path.endswith(".toml"):
        return load_builtin(name_or_path)
    return load_profile(Path(name_or_path))
