"""Sample labels: applying one to a result, and binding them in the outbox's append transaction."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import msgspec
import pytest
from msgspec.structs import asdict, replace
from pydantic import ValidationError

from gateway.label_store import LabelBook
from gateway.labels import KIT_EXPIRED_FLAG, UNLABELLED_FLAG, SampleLabel, apply_label
from gateway.outbox import Outbox
from gateway.room._form import parse_channel, parse_label_form
from protocols.result import QC, Sample, TestResult

from .conftest import now, result

SPINACH = SampleLabel(instrument="ei-01", channel=1, name="菠菜", category="vegetable", operator="tech-li",
                      stall="A-12", supplier="渝北蔬菜合作社", origin="重庆璧山", barcode="6901234567892",
                      kit_lot="EI-2411", kit_expiry=date(2099, 12, 31))


def on_channel(n: int, channel: int | str | None, **update: object) -> TestResult:
    return replace(result(n), channel=channel, **update)


def stored_result(outbox: Outbox, seq: int) -> dict:
    stored = outbox.get(seq)
    assert stored is not None
    return json.loads(stored.text)["result"]


def label_states(outbox: Outbox) -> list[tuple[int, str, int | None]]:
    return [tuple(row) for row in outbox.query("SELECT id, state, bound_seq FROM sample_labels ORDER BY id")]


def test_label_fills_sample_operator_and_kit_and_keeps_the_driver_sample_id():
    driver_result = on_channel(1, 1, sample=Sample(id="2305", name="keypad"))
    bound = apply_label(driver_result, SPINACH)
    assert {k: v for k, v in asdict(bound.sample).items() if v} == {
        "id": "2305", "name": "菠菜", "category": "蔬菜", "stall": "A-12", "supplier": "渝北蔬菜合作社",
        "origin": "重庆璧山", "barcode": "6901234567892"}
    assert bound.operator == "tech-li"
    assert bound.to_wire()["kit"] == {"lot": "EI-2411", "expiry": "2099-12-31"}
    assert bound.qc.flags == []
    assert apply_label(driver_result, msgspec.structs.replace(SPINACH, sample_id="S-9")).sample.id == "S-9"


def test_expired_kit_is_flagged_and_no_label_is_flagged_unlabelled():
    expired = msgspec.structs.replace(SPINACH, kit_expiry=date(2001, 1, 1))
    assert apply_label(on_channel(1, 1), expired).qc.flags == [KIT_EXPIRED_FLAG]
    plain = apply_label(on_channel(1, 1), None)
    assert plain.qc.flags == [UNLABELLED_FLAG] and "kit" not in plain.to_wire()
    assert apply_label(plain, None).qc.flags == [UNLABELLED_FLAG]


def test_kit_lot_needs_its_expiry_and_names_are_required():
    with pytest.raises(ValueError, match="kit_lot and kit_expiry go together"):
        SampleLabel(instrument="ei-01", name="菠菜", category="vegetable", operator="t", kit_lot="K1")
    with pytest.raises(ValueError, match="name"):
        SampleLabel(instrument="ei-01", name="  ", category="vegetable", operator="t")


def test_next_result_of_the_channel_takes_the_oldest_matching_label(outbox):
    book = LabelBook(outbox, now)
    first = book.queue(SPINACH)
    anywhere = book.queue(msgspec.structs.replace(SPINACH, channel=None, name="苹果", category="fruit"))
    outbox.append(on_channel(1, 2), "k1", book.bind)   # channel 2: only the "any channel" label fits
    outbox.append(on_channel(2, 1), "k2", book.bind)   # channel 1: its own label
    outbox.append(on_channel(3, 1), "k3", book.bind)   # nothing left
    outbox.append(replace(on_channel(4, 1), qc=QC(control="negative_control")), "k4", book.bind)
    assert [stored_result(outbox, seq)["sample"]["name"] for seq in (1, 2)] == ["苹果", "菠菜"]
    assert stored_result(outbox, 3)["qc"]["flags"] == [UNLABELLED_FLAG]
    assert stored_result(outbox, 4)["qc"]["flags"] == []  # a control neither takes nor needs a label
    assert label_states(outbox) == [(first, "bound", 2), (anywhere, "bound", 1)]
    assert book.queued() == []


def test_other_instrument_or_channel_does_not_take_the_label(outbox):
    book = LabelBook(outbox, now)
    book.queue(SPINACH)
    outbox.append(on_channel(1, 2), "k1", book.bind)
    outbox.append(on_channel(2, 1, instrument=replace(result(2).instrument, id="cg-01")), "k2",
                  book.bind)
    assert [item.label.name for item in book.queued()] == ["菠菜"]


def test_a_reading_seen_again_does_not_consume_a_label(outbox):
    book = LabelBook(outbox, now)
    book.queue(SPINACH)
    book.queue(msgspec.structs.replace(SPINACH, name="韭菜"))
    assert outbox.append(on_channel(1, 1), "same-key", book.bind) is not None
    assert outbox.append(on_channel(1, 1), "same-key", book.bind) is None
    assert [item.label.name for item in book.queued()] == ["韭菜"]


def test_a_failed_append_rolls_the_label_back(outbox):
    book = LabelBook(outbox, now)
    book.queue(SPINACH)

    def bind_then_fail(db: sqlite3.Connection, item: TestResult, seq: int) -> TestResult:
        book.bind(db, item, seq)
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        outbox.append(on_channel(1, 1), "k1", bind_then_fail)
    assert outbox.counts().last_seq == 0 and [item.label.name for item in book.queued()] == ["菠菜"]


def test_items_of_one_sample_message_share_its_label(outbox):
    book = LabelBook(outbox, now)
    book.queue(msgspec.structs.replace(SPINACH, channel=None))
    book.queue(msgspec.structs.replace(SPINACH, channel=None, name="韭菜"))
    message = on_channel(1, None, sample=Sample(id="S-1"))
    outbox.append(message, "S-1:nitrite", book.bind)
    outbox.append(replace(message, id="second-item"), "S-1:formaldehyde", book.bind)
    outbox.append(on_channel(2, None, sample=Sample(id="S-2")), "S-2:nitrite", book.bind)
    assert [stored_result(outbox, seq)["sample"]["name"] for seq in (1, 2, 3)] == ["菠菜", "菠菜", "韭菜"]


def test_labels_survive_reopening_the_outbox(tmp_path, private_key):
    path = tmp_path / "outbox.sqlite3"
    first = Outbox(path, gateway_id="gw-test-01", private_key=private_key, clock=now)
    LabelBook(first, now).queue(SPINACH)
    first.close()
    again = Outbox(path, gateway_id="gw-test-01", private_key=private_key, clock=now)
    try:
        assert [item.label for item in LabelBook(again, now).queued()] == [SPINACH]
        assert LabelBook(again, now).latest("ei-01") == SPINACH
    finally:
        again.close()


def test_form_half_filled_by_a_scanner_is_refused_field_by_field():
    half = parse_label_form({"instrument": "ei-01", "channel": "1", "barcode": "6901234567892\n"}, {"ei-01"})
    assert half.label is None
    assert half.errors == {"name": "err_required", "category": "err_category", "operator": "err_required"}
    assert half.values["barcode"] == "6901234567892"


def test_form_errors_name_the_field_and_a_full_form_gives_a_label():
    wrong = parse_label_form({"instrument": "ei-09", "name": "菠菜", "category": "meat", "operator": "t",
                              "kit_lot": "K1", "kit_expiry": "31/12/2099"}, {"ei-01"})
    assert wrong.errors == {"instrument": "err_instrument", "kit_expiry": "err_date"}
    no_expiry = parse_label_form({"instrument": "ei-01", "name": "菠菜", "category": "meat", "operator": "t",
                                  "kit_lot": "K1"}, {"ei-01"})
    assert no_expiry.errors == {"kit_lot": "err_kit"}
    good = parse_label_form({"instrument": "ei-01", "channel": "any", "name": " 菠菜 ", "category": "vegetable",
                             "operator": "tech-li", "stall": ""}, {"ei-01"})
    assert good.errors == {} and good.label == SampleLabel(instrument="ei-01", channel=None, name="菠菜",
                                                          category="vegetable", operator="tech-li")


def test_channel_text():
    assert [parse_channel(text) for text in ("any", "", " 3 ", "A1")] == [None, None, 3, "A1"]


def test_a_control_label_marks_the_run_it_binds_to(outbox):
    book = LabelBook(outbox, now)
    book.queue(msgspec.structs.replace(SPINACH, name="阴性质控品", category="other", control="negative_control"))
    book.queue(SPINACH)
    outbox.append(on_channel(1, 1), "k1", book.bind)
    outbox.append(on_channel(2, 1), "k2", book.bind)
    control, sample = stored_result(outbox, 1), stored_result(outbox, 2)
    assert control["qc"]["control"] == "negative_control" and control["kit"] == {"lot": "EI-2411",
                                                                               "expiry": "2099-12-31"}
    assert sample["qc"]["control"] == "sample" and sample["sample"]["name"] == "菠菜"
    form = parse_label_form({"instrument": "ei-01", "control": "positive_control", "name": "阳性质控品",
                             "category": "other", "operator": "t"}, {"ei-01"})
    assert form.label is not None and form.label.control == "positive_control"
    assert parse_label_form({"instrument": "ei-01", "control": "calibrator", "name": "x", "category": "other",
                             "operator": "t"}, {"ei-01"}).errors == {"control": "err_control"}


def test_a_label_queued_by_an_older_gateway_still_binds_as_a_sample(tmp_path, private_key):
    path = tmp_path / "outbox.sqlite3"
    Outbox(path, gateway_id="gw-test-01", private_key=private_key, clock=now).close()
    old_form = json.dumps({k: v for k, v in json.loads(SPINACH.to_json()).items() if k != "control"}, ensure_ascii=False)
    assert "control" not in old_form
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO sample_labels (instrument, channel, label, created_at) VALUES (?, ?, ?, ?)",
                   ("ei-01", "1", old_form, now().isoformat()))
    db.close()
    again = Outbox(path, gateway_id="gw-test-01", private_key=private_key, clock=now)
    try:
        book = LabelBook(again, now)
        assert [item.label for item in book.queued()] == [SPINACH]
        again.append(on_channel(1, 1), "k1", book.bind)
        assert stored_result(again, 1)["qc"]["control"] == "sample"
    finally:
        again.close()


@pytest.mark.parametrize(("field", "typed", "stored"), [
    ("name", "  菠\u200b菜 \t 叶 ", "菠菜 叶"), ("name", "e\u0301pinard", "\u00e9pinard"),
    ("stall", "A-12\ufeff", "A-12"), ("name", "x" * 64, "x" * 64)])
def test_label_text_is_normalised_before_it_is_signed(field, typed, stored):
    form = parse_label_form({"instrument": "ei-01", "name": "菠菜", "category": "vegetable", "operator": "t",
                             field: typed}, {"ei-01"})
    assert form.errors == {} and form.label is not None and getattr(form.label, field) == stored


@pytest.mark.parametrize(("field", "typed", "error"), [
    ("name", "\u200b\u200b", "err_text"), ("name", "菠\u202e菜", "err_text"), ("supplier", "合作社\x07", "err_text"),
    ("operator", "t\u0000", "err_text"), ("name", "x" * 65, "err_too_long"), ("stall", "A" * 33, "err_too_long"),
    ("barcode", "6" * 33, "err_too_long"), ("stall", "A" * 32 + "\u200b", None)])
def test_label_text_that_is_blank_invisible_or_too_long_is_refused_naming_the_field(field, typed, error):
    form = parse_label_form({"instrument": "ei-01", "name": "菠菜", "category": "vegetable", "operator": "t",
                             field: typed}, {"ei-01"})
    assert form.errors == ({field: error} if error else {})
    assert (form.label is None) == (error is not None)


def test_stored_label_form_is_byte_identical_to_the_earlier_gateways():
    """The label JSON kept in the outbox is unchanged by the move from pydantic to msgspec."""
    assert SPINACH.to_json() == (
        '{"instrument":"ei-01","channel":1,"name":"菠菜","category":"vegetable","operator":"tech-li","stall":"A-12",'
        '"supplier":"渝北蔬菜合作社","origin":"重庆璧山","barcode":"6901234567892","kit_lot":"EI-2411",'
        '"kit_expiry":"2099-12-31","control":"sample"}')
    assert SampleLabel.from_json(SPINACH.to_json()) == SPINACH
