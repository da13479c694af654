"""The simulator's own reader of profile TOML files (written from docs/profiles.md, not shared code).

It takes only what an instrument needs to lay out its registers: field layouts, the result
block, ready flag, ack scheme, analyte codes, the cutoff source and the control-line minimum.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().parents[2] / "protocols" / "profiles"
"""Where the built-in profile data files live (data only; no code of ``protocols`` is imported)."""

_NATURAL_WORDS = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2}


class SimProfileError(ValueError):
    """A profile file the simulator cannot use."""


@dataclass(frozen=True)
class Layout:
    """Where one value sits and how it is encoded (see docs/profiles.md, field keys)."""

    address: int
    type: str
    words: int
    word_order: str = "big"
    byte_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class Block:
    table: str
    start: int
    count: int
    fields: dict[str, Layout]


@dataclass(frozen=True)
class SimProfile:
    name: str
    model: str
    vendor: str
    identity: Block
    result: Block
    ready_table: str
    ready_address: int
    ready_mask: int
    sequence_field: str
    ack_kind: str
    ack_address: int
    ack_value: int | None
    analyte_codes: dict[int, str]
    roles: dict[str, Any]
    """The [mapping] table plus ``ratio`` and ``cutoff`` from [verdict]."""
    c_min: float
    cutoffs: dict[str, float]


def _layout(raw: dict[str, Any]) -> Layout:
    kind = raw["type"]
    words = raw.get("words") or _NATURAL_WORDS.get(kind)
    if words is None:
        raise SimProfileError(f"string field at {raw.get('address')} needs words")
    return Layout(
        address=int(raw["address"]), type=kind, words=int(words),
        word_order=raw.get("word_order", "big"), byte_order=raw.get("byte_order", "big"),
        scale=float(raw.get("scale", 1.0)), offset=float(raw.get("offset", 0.0)),
    )


def _block(raw: dict[str, Any]) -> Block:
    return Block(
        table=raw.get("table", "holding"), start=int(raw["start"]), count=int(raw["count"]),
        fields={name: _layout(spec) for name, spec in raw["fields"].items()},
    )


def parse(text: str) -> SimProfile:
    """Build a :class:`SimProfile` from profile TOML text."""
    try:
        doc = tomllib.loads(text)
        hs, verdict = doc["handshake"], doc["verdict"]
        roles = dict(doc["mapping"])
        roles["ratio"] = verdict["ratio"]
        roles["cutoff"] = verdict.get("cutoff")
        return SimProfile(
            name=doc["profile"]["name"], model=doc["profile"]["model"], vendor=doc["profile"]["vendor"],
            identity=_block(doc["identity"]), result=_block(doc["result"]),
            ready_table=hs["ready"].get("table", "holding"), ready_address=int(hs["ready"]["address"]),
            ready_mask=int(hs["ready"].get("mask", 0xFFFF)), sequence_field=hs["sequence"],
            ack_kind=hs["ack"]["kind"], ack_address=int(hs["ack"]["address"]), ack_value=hs["ack"].get("value"),
            analyte_codes={int(code, 0): entry["analyte"] for code, entry in doc["analytes"].items()},
            roles=roles, c_min=float(verdict["c_min"]), cutoffs=dict(verdict.get("cutoffs", {})),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise SimProfileError(f"unusable profile: {exc!r}") from exc


def load(name_or_path: str) -> SimProfile:
    """A built-in profile name (``gr100``) or a path to a ``.toml`` profile."""
    path = Path(name_or_path) if ("/" in name_or_path or name_or_path.endswith(".toml")) else (
        PROFILE_DIR / f"{name_or_path}.toml"
    )
    try:
        return parse(path.read_text("utf-8"))
    except OSError as exc:
        raise SimProfileError(f"cannot read profile {path}: {exc}") from exc
