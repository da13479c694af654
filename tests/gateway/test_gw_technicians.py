"""Room-page sign-in state: badge or PIN, the pseudonymous id bound as operator, idle sign-out, PIN lockout."""

from __future__ import annotations

import json

import msgspec
import pytest
from argon2 import PasswordHasher

from gateway.technicians import (
    NOT_SIGNED_IN_FLAG,
    PIN_ATTEMPTS,
    PIN_LOCK_S,
    Roster,
    RosterError,
    SignIn,
    Technician,
    badge_digest,
    load_roster,
    save_roster,
)

from .conftest import result

HASHER = PasswordHasher(time_cost=1, memory_cost=64)
WANG = Technician(id="t-1a2b3c4d5e", name="王芳", pin_hash=HASHER.hash("246810"), badge_sha256=badge_digest("YZ-T-0042"))
LI = Technician(id="t-99887766aa", name="李强", badge_sha256=badge_digest("YZ-T-0043"))
ROSTER = Roster(site="yz-market-07", issued_at="2026-12-02T09:00:00+08:00", technicians=[WANG, LI])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_badge_or_pin_signs_in_and_results_carry_only_the_pseudonymous_id():
    sign_in = SignIn(ROSTER, idle_s=600, clock=Clock())
    unsigned = sign_in.bind(result(1))
    assert unsigned.operator == "tech-001" and unsigned.qc.flags == [NOT_SIGNED_IN_FLAG]
    assert sign_in.with_badge(" YZ-T-0043\n") == LI  # a scanner's trailing Enter is not part of the code
    bound = sign_in.bind(result(2))
    assert bound.operator == LI.id and NOT_SIGNED_IN_FLAG not in bound.qc.flags
    assert LI.name not in json.dumps(bound.to_wire(), ensure_ascii=False)
    assert sign_in.with_pin(WANG.id, "246810") == WANG and sign_in.bind(result(3)).operator == WANG.id
    assert sign_in.sign_out() == WANG and sign_in.bind(result(4)).qc.flags == [NOT_SIGNED_IN_FLAG]
    assert sign_in.with_badge("YZ-T-9999") is None and sign_in.with_pin(LI.id, "0000") is None  # no PIN set
    assert sign_in.with_pin("t-unknown000", "246810") is None and sign_in.current() is None


def test_idle_sign_out_and_page_actions_keep_the_session():
    clock = Clock()
    sign_in = SignIn(ROSTER, idle_s=300, clock=clock)
    sign_in.with_badge("YZ-T-0042")
    clock.now += 299
    sign_in.touch()  # labelled a sample
    clock.now += 299
    assert sign_in.current() == WANG
    clock.now += 2
    assert sign_in.current() is None and sign_in.bind(result(1)).qc.flags == [NOT_SIGNED_IN_FLAG]


def test_wrong_pins_lock_the_technicians_pin_for_a_while():
    clock = Clock()
    sign_in = SignIn(ROSTER, idle_s=600, clock=clock)
    for _ in range(PIN_ATTEMPTS):
        assert sign_in.with_pin(WANG.id, "000000") is None
    assert sign_in.with_pin(WANG.id, "246810") is None  # locked, even with the right PIN
    assert sign_in.with_badge("YZ-T-0042") == WANG  # the badge still works
    sign_in.sign_out()
    clock.now += PIN_LOCK_S + 1
    assert sign_in.with_pin(WANG.id, "246810") == WANG


def test_a_newer_roster_without_the_signed_in_technician_signs_them_out():
    sign_in = SignIn(ROSTER, idle_s=600, clock=Clock())
    sign_in.with_badge("YZ-T-0042")
    sign_in.replace_roster(msgspec.structs.replace(ROSTER, technicians=[LI]))
    assert sign_in.current() is None


def test_roster_cache_round_trip_and_a_damaged_file_is_named(tmp_path):
    path = tmp_path / "technicians.json"
    assert load_roster(path) is None
    save_roster(path, ROSTER)
    assert load_roster(path) == ROSTER and not (tmp_path / "technicians.json.tmp").exists()
    path.write_text('{"site": "yz", "technicians": [{"id": "x"}]}', "utf-8")
    with pytest.raises(RosterError, match="technicians.json: not a technician roster"):
        load_roster(path)
