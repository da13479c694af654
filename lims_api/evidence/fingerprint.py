"""What a replayed reading repeats: the raw bytes, the method's raw values, and which sample it claims."""

from __future__ import annotations

import hashlib

from protocols.result import TestResult

MEASUREMENT_MEMBERS = {
    "enzyme_inhibition": ("control_delta_a", "sample_delta_a"),
    "colloidal_gold": ("t_intensity", "c_intensity"),
}
"""Per test kind, the instrument's raw values that two real tests of different samples do not share."""


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()


def raw_sha256(result: TestResult) -> str:
    """SHA-256 of the raw member's base64 text (the same bytes give the same text)."""
    return _digest(result.raw.transport, result.raw.data)


def measurement_key(result: TestResult) -> str | None:
    """Digest of the method's raw values (ΔA₀ and ΔAₜ; T and C); None for kinds without such values."""
    members = MEASUREMENT_MEMBERS.get(result.test.kind)
    if members is None:
        return None
    extra = result.measurement.extra
    values = [extra.get(name) for name in members]
    if any(value is None for value in values):
        return None
    return _digest(result.test.kind, result.test.item, *values)


def sample_key(result: TestResult) -> str:
    """Digest of the sample the result claims: site, id, barcode, name, stall."""
    sample = result.sample
    return _digest(result.site.id, sample.id, sample.barcode, sample.name, sample.stall)
