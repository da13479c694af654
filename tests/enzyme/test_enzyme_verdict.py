"""GB/T 5009.199 verdict rules: contract numbers, rounding, invalid control, suspect band, mismatch."""

from __future__ import annotations

from decimal import Decimal

import pytest

from protocols.enzyme import EnzymeUsageError, VerdictRules, inhibition_percent, judge


def test_contract_numbers_give_62_5_percent_positive():
    judgement = judge(0.412, 0.1545)
    assert judgement.inhibition == Decimal("62.5")
    assert judgement.verdict == "positive" and judgement.flags == ()


def test_matching_instrument_verdict_adds_no_flag():
    assert judge("0.4120", "0.1545", "POS").flags == ()
    assert judge("0.4120", "0.3987", "NEG").flags == ()
    assert judge("0.2140", "0.2050", "---").flags == ("control_delta_a_low",)


def test_rounding_is_half_up_to_a_tenth_and_the_verdict_follows_the_rounded_value():
    # (0.4000 - 0.2002) / 0.4000 * 100 = 49.95 exactly -> 50.0 -> positive
    assert judge("0.4000", "0.2002").inhibition == Decimal("50.0")
    assert judge("0.4000", "0.2002").verdict == "positive"
    # 49.925 -> 49.9 -> negative, suspect
    judgement = judge("0.4000", "0.2003")
    assert (judgement.inhibition, judgement.verdict) == (Decimal("49.9"), "negative")
    assert judgement.flags == ("suspect_band",)
    assert inhibition_percent("0.4000", "0.4106") == Decimal("-2.7")  # -2.65, half away from zero


def test_exactly_the_cutoff_is_positive():
    assert judge("0.4000", "0.2000").verdict == "positive"


def test_low_control_invalidates_whatever_the_sample():
    for sample in ("0.0100", "0.2000", "0.2999"):
        judgement = judge("0.2999", sample)
        assert judgement.verdict == "invalid" and "control_delta_a_low" in judgement.flags
    assert judge("0.3000", "0.2000").verdict == "negative"  # the minimum itself is valid


def test_zero_control_is_invalid_with_no_value():
    judgement = judge("0.0000", "0.1000")
    assert (judgement.inhibition, judgement.verdict) == (None, "invalid")


def test_min_control_is_configurable():
    rules = VerdictRules(min_control_delta_a=Decimal("0.2"))
    assert judge("0.2500", "0.2400", rules=rules).verdict == "negative"


def test_suspect_band_flags_only_negatives_inside_the_band():
    assert judge("0.4000", "0.2400").flags == ("suspect_band",)  # 40.0
    assert judge("0.4000", "0.2404").flags == ()  # 39.9
    assert judge("0.4000", "0.1000").flags == ()  # 75.0 positive: no suspect flag


def test_suspect_band_and_cutoff_are_profile_settings():
    rules = VerdictRules(cutoff=Decimal(45), suspect_band=(Decimal(30), Decimal(45)))
    assert judge("0.4000", "0.2000", rules=rules).verdict == "positive"  # 50 >= 45
    assert judge("0.4000", "0.2600", rules=rules).flags == ("suspect_band",)  # 35


def test_instrument_disagreement_keeps_ours_and_flags_theirs():
    judgement = judge("0.4120", "0.1545", "NEG")
    assert judgement.verdict == "positive"
    assert judgement.flags == ("instrument_verdict_mismatch:NEG",)
    judgement = judge("0.2000", "0.1545", "POS")
    assert judgement.verdict == "invalid"
    assert judgement.flags == ("control_delta_a_low", "instrument_verdict_mismatch:POS")


@pytest.mark.parametrize(
    "rules",
    [
        {"cutoff": Decimal(0)},
        {"cutoff": Decimal(101)},
        {"min_control_delta_a": Decimal(-1)},
        {"suspect_band": (Decimal(50), Decimal(40))},
    ],
)
def test_impossible_rules_are_refused(rules):
    with pytest.raises(EnzymeUsageError):
        VerdictRules(**rules)
