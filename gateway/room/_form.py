"""The label form: posted fields -> a validated SampleLabel, or one error word per field."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from protocols._validation import Invalid, Problem, convert

from ..labels import Channel, SampleLabel

FIELDS = ("instrument", "channel", "control", "name", "category", "stall", "supplier", "origin", "barcode",
          "sample_id", "operator", "kit_lot", "kit_expiry")
CONTROLS = ("sample", "negative_control", "positive_control", "blank")
"""The label form's run kinds, in the order the select offers them."""
ANY_CHANNEL = "any"


@dataclass(frozen=True)
class FormOutcome:
    """Either ``label`` (valid) or ``errors`` (field -> text key); ``values`` refill the form."""

    values: dict[str, str]
    label: SampleLabel | None
    errors: dict[str, str]


def parse_channel(text: str) -> Channel:
    """``any``/empty -> None (any channel), digits -> int, other text (a slot name) as is."""
    text = text.strip()
    if text in ("", ANY_CHANNEL):
        return None
    return int(text) if text.isdigit() else text


def parse_label_form(posted: Mapping[str, str], instruments: Collection[str]) -> FormOutcome:
    """Validate a posted label; an empty optional field is absent, an empty required one an error."""
    values = {name: str(posted.get(name, "")).strip() for name in FIELDS}
    data: dict[str, object] = {name: value for name, value in values.items() if value and name != "channel"}
    data["channel"] = parse_channel(values["channel"])
    errors: dict[str, str] = {}
    if values["instrument"] and values["instrument"] not in instruments:
        errors["instrument"] = "err_instrument"
    try:
        label = convert(data, SampleLabel)
    except Invalid as exc:
        for problem in exc.problems:
            if not problem.loc:  # the label's own check: kit lot and expiry together
                errors.setdefault("kit_lot", "err_kit")
                continue
            name = str(problem.loc[0])
            errors.setdefault(name, _error_key(name, problem))
        return FormOutcome(values, None, errors)
    return FormOutcome(values, None if errors else label, errors)


_BY_FIELD = {"category": "err_category", "kit_expiry": "err_date", "channel": "err_channel", "control": "err_control"}
_BY_KIND = {"too_long": "err_too_long", "value": "err_text"}


def _error_key(name: str, problem: Problem) -> str:
    if problem.kind == "missing":
        return "err_category" if name == "category" else "err_required"
    return _BY_FIELD.get(name) or _BY_KIND.get(problem.kind, "err_required")
