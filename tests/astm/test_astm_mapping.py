"""The instrument document's worked example, byte for byte, and how it maps to TestResults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from astm_support import drain

from drivers.astm_quantitative import load_limits, readings
from drivers.base import DriverContext, LabelSource
from protocols.astm import AstmLinkReceiver, MessageComplete, parse_message
from protocols.result import Sample, Site

DOC_RECORDS = (Path(__file__).resolve().parents[1] / "data" / "astm-worked-example.txt").read_text("utf-8").splitlines()
"""docs/instruments/multi-item-analyzer.md's worked example, one record per line."""
DOC_CHECKSUMS = [b"76", b"72", b"78", b"D4", b"FD", b"10", b"29", b"17", b"04"]
DOC_FRAME_NUMBERS = b"123456701"


def _frames() -> list[bytes]:
    """The example's frames written out from the document (STX FN text CR ETX C1C2 CR LF)."""
    return [b"\x02" + bytes([fn]) + record.encode() + b"\r\x03" + c1c2 + b"\r\n"
            for fn, record, c1c2 in zip(DOC_FRAME_NUMBERS, DOC_RECORDS, DOC_CHECKSUMS)]


def _message() -> MessageComplete:
    receiver = AstmLinkReceiver()
    receiver.receive_data(b"\x05" + b"".join(_frames()) + b"\x04")
    events = drain(receiver)
    assert receiver.data_to_send() == b"\x06" * 10  # every documented checksum is right
    [message] = [e for e in events if isinstance(e, MessageComplete)]
    return message


def test_worked_example_maps_to_four_results():
    taken: list[object] = []

    def take(channel):
        taken.append(channel)
        return Sample(barcode="6901234567890", supplier="渝中蔬菜批发", name="ignored"), "tech-label"

    context = DriverContext(site=Site(id="s", kind="market", name="m"), instrument_id="aq-01", operator="tech-7",
                            clock=lambda: datetime(2024, 5, 1, 1, 40, tzinfo=timezone.utc),
                            labels=LabelSource(take=take))
    message = _message()
    out = readings(parse_message(message.text), message.raw, load_limits(None), context,
                   timezone(timedelta(hours=8)))
    assert taken == [3]
    assert [(r.result.test.analyte, r.result.verdict) for r in out] == [
        ("NO2", "positive"), ("HCHO", "negative"), ("SO2", "negative"), ("BORAX", "invalid")]
    assert [r.source_key for r in out][0] == "Q8-230117:S202405010001:20240501093400:NO2"
    borax = out[3].result
    assert borax.qc.flags == ["instrument_error", "value_missing"]
    assert borax.measurement.value is None and borax.measurement.extra["comments"] == ["E07 吸光度超出范围"]
    no2 = out[0].result
    assert no2.sample.name == "腌萝卜" and no2.sample.barcode == "6901234567890"
    assert (no2.sample.category, no2.sample.stall, no2.sample.supplier) == ("腌渍蔬菜", "A-07", "渝中蔬菜批发")
    assert no2.operator == "tech-label"
    assert no2.tested_at == "2024-05-01T09:34:00.000+08:00"
    assert no2.received_at == "2024-05-01T01:40:00.000+00:00"
    assert no2.measurement.extra["instrument_flag"] == "H" and no2.measurement.extra["limit_standard"] == "GB 2762-2022"
    assert all(r.result.to_wire()["raw"]["data"] == out[0].result.raw.data for r in out)


def _anonymous_readings(records: list[str]) -> list[str]:
    """Source keys of a message whose samples carry no code and whose results no completion time."""
    context = DriverContext(site=Site(id="s", kind="market", name="m"), instrument_id="aq-01", operator="tech-7",
                            clock=lambda: datetime(2024, 5, 1, 1, 40, tzinfo=timezone.utc),
                            labels=LabelSource(take=lambda channel: (Sample(), None)))
    text = "\r".join(records) + "\r"
    return [r.source_key for r in readings(parse_message(text.encode()), text.encode(), load_limits(None), context,
                                           timezone(timedelta(hours=8)))]


ANONYMOUS = [
    "H|\\^&|||FS-Q8^Q8-230117^2.1.0|||||LIS||P|LIS2-A2|20240501093600",
    "P|1||||腌萝卜",
    "R|1|^^^NO2|26.40|mg/kg|0 to 20|H||F||T01||",
    "P|2||||酸菜",
    "R|1|^^^NO2|26.40|mg/kg|0 to 20|H||F||T01||",
    "L|1|N",
]


def test_readings_without_sample_code_or_time_keep_apart_and_a_resend_matches():
    first = _anonymous_readings(ANONYMOUS)
    assert len(set(first)) == 2  # two samples, same item and value: still two readings, none dropped
    assert _anonymous_readings(ANONYMOUS) == first  # the same message re-sent: the same keys (stored once)
    later = _anonymous_readings([ANONYMOUS[0].replace("20240501093600", "20240501094100"), *ANONYMOUS[1:]])
    assert not set(later) & set(first)  # the next message's readings are new
