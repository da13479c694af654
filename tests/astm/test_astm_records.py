"""E1394 record parsing (custom delimiters, escapes, errors naming record and field) and verdicts."""

from datetime import datetime

import pytest
from astm_support import SAMPLE_RECORDS

from protocols.astm import (
    Comment,
    Delimiters,
    LimitsError,
    OtherRecord,
    RecordError,
    Result,
    evaluate,
    parse_limits,
    parse_message,
    verdict,
)
from protocols.astm.limits import DEFAULT_LIMITS_RESOURCE


def _text(*records: str) -> bytes:
    return "".join(r + "\r" for r in records).encode()


def test_sample_message_parses_into_typed_records():
    message = parse_message(b"".join(r + b"\r" for r in SAMPLE_RECORDS))
    assert message.header.sender == ("FS-Q8", "Q8-230117", "2.1.0")
    assert message.header.timestamp == datetime(2024, 5, 1, 9, 36)
    assert message.errors == ()
    entries = message.entries()
    assert [e.result.test_code for e in entries] == ["NO2", "HCHO"]
    first = entries[0]
    assert (first.sample.code, first.sample.name, first.sample.stall) == ("S001", "白菜", "A-07")
    assert (first.order.channel, first.order.tests, first.order.category) == ("3", ("NO2", "HCHO"), "veg")
    assert (first.result.value, first.result.units, first.result.status) == ("26.40", "mg/kg", "F")
    assert first.result.completed_at == datetime(2024, 5, 1, 9, 34)
    assert first.result.completed_at_text == "20240501093400"


def test_custom_delimiters_and_escapes_from_the_header():
    message = parse_message(_text(
        "H!~$%!!!FS-Q8$Q8-1$3.0",
        "P!1!S%F%1!!!咸菜%S%散装!!",
        "O!1!S1!2!$$$NO2~$$$SO2",
        "R!1!$$$NO2!3.5!mg/kg!!N!!F!!!!20240501093400",
        "C!1!I!a%R%b%E%c%S%d!G",
        "L!1!N",
    ))
    assert message.header.delimiters == Delimiters("!", "~", "$", "%")
    assert message.header.sender == ("FS-Q8", "Q8-1", "3.0")
    entry = message.entries()[0]
    assert entry.sample.code == "S!1"
    assert entry.sample.name == "咸菜$散装"
    assert entry.order.tests == ("NO2", "SO2")
    assert entry.comments == (Comment(1, "I", "a~b%c$d", "G"),)


def test_default_escapes_and_hex_escape():
    message = parse_message(_text("H|\\^&", "P|1|A&F&B&S&C&R&D&E&E&X41&&.br&", "L|1|N"))
    assert message.records[1].code == "A|B^C\\D&EA&.br&"


def test_comments_attach_to_the_result_before_them():
    message = parse_message(_text("H|\\^&", "P|1|S1", "O|1|S1", "R|1|^^^NO2||mg/kg|||X", "C|1|I|E07^bad|G",
                                  "R|2|^^^SO2|1|mg/kg", "L|1|N"))
    entries = message.entries()
    assert [len(e.comments) for e in entries] == [1, 0]
    assert entries[0].comments[0].text == "E07 bad"


def test_a_bad_record_is_skipped_and_named_the_others_are_kept():
    message = parse_message(_text("H|\\^&", "P|1|S1", "R|x|^^^NO2|1|mg/kg", "R|2|NO2|1|mg/kg",
                                  "R|3|^^^SO2|1|mg/kg||||||||2024-05-01", "R|4|^^^HCHO|2|mg/kg", "Z|1", "L|1|N"))
    assert [(e.record, e.field) for e in message.errors] == [
        (3, "R.2 sequence number"), (4, "R.3 universal test id"), (5, "R.13 test completed")]
    assert "record 5 field R.13 test completed: not a YYYYMMDDHHMMSS time: '2024-05-01'" in str(message.errors[2])
    assert [e.result.test_code for e in message.entries()] == ["HCHO"]
    assert isinstance(message.records[-2], OtherRecord)


@pytest.mark.parametrize(("text", "field"), [
    (b"", "H.1 record type"),
    (b"P|1\r", "H.2 delimiters"),
    (b"H|||&\r", "H.2 delimiters"),
])
def test_header_errors_are_fatal_and_named(text, field):
    with pytest.raises(RecordError) as caught:
        parse_message(text)
    assert (caught.value.record, caught.value.field) == (1, field)


def test_undecodable_bytes_name_the_record():
    message = parse_message(b"H|\\^&\rP|1|\xff\xfe\rL|1|N\r")
    assert (message.errors[0].record, message.errors[0].field) == (2, "text")


def test_unterminated_escape_is_an_error():
    message = parse_message(_text("H|\\^&", "P|1|S&F", "L|1|N"))
    assert (message.errors[0].record, message.errors[0].field) == (2, "P.3 sample code")


def test_verdict_rule():
    assert verdict(20.01, 20.0) == "positive"
    assert verdict(20.0, 20.0) == "negative"
    assert verdict(0.0, 0.0) == "negative"
    assert verdict(None, 20.0) == "invalid"
    assert verdict(1.0, 20.0, instrument_error=True) == "invalid"


def _result(value: str, units: str = "mg/kg", status: str = "F", code: str = "NO2") -> Result:
    return Result(1, code, value, units, "", "", status, "", None, None, "", "")


def test_evaluate_against_the_packaged_table():
    from importlib import resources

    package, name = DEFAULT_LIMITS_RESOURCE
    table = parse_limits(resources.files(package).joinpath(name).read_text("utf-8"))
    assert {"NO2", "HCHO", "SO2", "BORAX"} <= set(table)
    assert table["NO2"].name == "亚硝酸盐" and table["NO2"].limit == 20.0
    no2 = table["NO2"]
    assert evaluate(_result("26.4"), no2).verdict == "positive"
    assert evaluate(_result("3.2"), no2).verdict == "negative"
    assert evaluate(_result("0.01", code="BORAX"), table["BORAX"]).verdict == "positive"
    assert evaluate(_result("", status="X"), no2).flags == ("instrument_error", "value_missing")
    assert evaluate(_result("abc"), no2).flags == ("value_not_numeric",)
    assert evaluate(_result("3", units="g/kg"), no2).flags == ("unit_mismatch",)
    assert evaluate(_result("3", code="PB"), None).flags == ("unknown_item",)


@pytest.mark.parametrize(("text", "message"), [
    ("items = 3", "needs an [items.<CODE>] table"),
    ("[items.NO2]\nname = 'x'", "items.NO2.limit: missing"),
    ("[items.NO2]\nname='a'\nlimit='20'\nunit='u'\nfood='f'\nstandard='s'\nmethod='m'\nsource='x'",
     "items.NO2.limit: must be a finite number"),
    ("[items", "not TOML"),
])
def test_bad_limits_tables_name_item_and_key(text, message):
    with pytest.raises(LimitsError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_limits(text)
