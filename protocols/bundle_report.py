"""The result of verifying an audit bundle: faults, key records and the report (pure data)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Fault:
    """One reason the bundle fails verification."""

    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.message}"


@dataclass(frozen=True)
class KeyRecord:
    """A gateway (or LIMS) public key from keys.json."""

    gateway: str
    kid: str
    public_raw: bytes
    valid_from: datetime | None
    revoked_at: datetime | None


@dataclass
class Report:
    """What verification found: envelope count, per-gateway last seq and faults."""

    envelopes: int = 0
    images: int = 0
    """Evidence images checked against their hashes."""
    gateways: dict[str, int] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    def add(self, kind: str, where: str, message: str) -> None:
        self.faults.append(Fault(kind, where, message))


def json_problem(exc: UnicodeDecodeError | json.JSONDecodeError) -> str:
    """Why bytes are not a JSON document, in words (with the position)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
