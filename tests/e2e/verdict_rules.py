"""Verdicts recomputed from a result's measurement alone, per docs/instruments/*.md (no driver code)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def enzyme(m: dict[str, Any]) -> str:
    """GB/T 5009.199: inhibition = (ΔA0 − ΔAt)/ΔA0 × 100, ≥ cutoff → positive; weak control → invalid.

    A reader that reports only the inhibition % (line profile) is judged on that value.
    """
    if "control_delta_a" not in m:
        return "positive" if m["value"] >= m["cutoff"] else "negative"
    a0, at = Decimal(str(m["control_delta_a"])), Decimal(str(m["sample_delta_a"]))
    if a0 < Decimal("0.3"):
        return "invalid"
    rate = ((a0 - at) / a0 * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert float(rate) == m["value"], (rate, m["value"])
    return "positive" if rate >= Decimal(str(m["cutoff"])) else "negative"


def colloidal_gold(m: dict[str, Any]) -> str:
    """Competitive assay: weak C line → invalid; T/C ≤ cutoff → positive."""
    if m["c_intensity"] < m["c_min"]:
        return "invalid"
    return "positive" if m["value"] <= m["cutoff"] else "negative"


def quantitative(m: dict[str, Any]) -> str:
    """Concentration above the legal limit → positive; no value, no limit or status X → invalid."""
    if m["value"] is None or m["cutoff"] is None or m.get("instrument_status") == "X":
        return "invalid"
    return "positive" if m["value"] > m["cutoff"] else "negative"


RULES = {"enzyme_inhibition": enzyme, "colloidal_gold": colloidal_gold, "quantitative": quantitative}


def recompute(result: dict[str, Any]) -> str:
    """The verdict the documented rule gives for ``result``."""
    return RULES[result["test"]["kind"]](result["measurement"])
