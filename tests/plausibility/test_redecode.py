"""Re-decoding ``raw`` with protocols/: real driver results agree; edited values, verdicts or bytes are flagged."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from msgspec.structs import replace

from drivers.astm_quantitative import load_limits, readings
from drivers.base import DriverContext
from drivers.enzyme_inhibition import parse_options, to_test_result
from drivers.modbus_profile._result import InstrumentIdentity, build_result
from drivers.serial_line_profile._result import build_result as build_line_result
from firmware_sim.enzyme._encoder import channel_frame, control_frame, header_frame
from protocols.enzyme import judge_reading, reading_from_raw
from protocols import line_profile
from protocols.modbus_profile import decode_block, interpret, load_builtin
from protocols.plausibility.redecode import checkable, redecode_flags
from protocols.result import Measurement, Raw, Site, TestResult
from protocols.astm import build_frame, parse_message
from protocols.uuid7 import uuid7
from tests.modbus.test_modbus_decode import GR100_BLOCK

TZ = timezone(timedelta(hours=8))
CONTEXT = DriverContext(site=Site(id="yz-market-07", kind="market", name="七星岗农贸市场"), instrument_id="x-01",
                        operator="tech-li", clock=lambda: datetime(2026, 12, 2, 9, 30, tzinfo=TZ))


def enzyme_result(control: str = "0.5210", sample: str = "0.2050") -> TestResult:
    raw = (header_frame("EI-412", "EI412A0001", "2.3.1", 17, datetime(2026, 12, 2, 9, 29), "OP1", 4)
           + control_frame(Decimal(control), 180) + channel_frame(2, Decimal(control), Decimal(sample), "S07"))
    options = parse_options({"port": "/dev/null"})
    reading = reading_from_raw(raw)
    return to_test_result(reading, judge_reading(reading, options.rules), CONTEXT, options)


def gold_result() -> TestResult:
    profile = load_builtin("gr100")
    reading = interpret(profile, decode_block(profile, GR100_BLOCK))
    return build_result(profile=profile, reading=reading, registers=GR100_BLOCK,
                        identity=InstrumentIdentity("v", "GR-100", "GR2026001", "1.0"), transport="modbus-rtu",
                        local_tz=TZ, context=CONTEXT)


ASTM_RECORDS = [  # docs/instruments/multi-item-analyzer.md's worked example
    "H|\\^&|1||FS-Q8^Q8-230117^2.1.0|||||LIS||P|LIS2-A2|20240501093600",
    "P|1|S202405010001|||腌萝卜||||||||||||||||||||A-07",
    "O|1|S202405010001|3|^^^NO2\\^^^HCHO|R||20240501092900||||N||||腌渍蔬菜||||||||||F",
    "R|1|^^^NO2|26.40|mg/kg|0 to 20|H||F||T01|20240501092900|20240501093400|FS-Q8^Q8-230117",
    "R|2|^^^HCHO|1.25|mg/kg|0 to 10|N||F||T01|20240501092900|20240501093430|FS-Q8^Q8-230117",
    "L|1|N",
]


NY10_LINE = b"NY10,SN2026777,2026-11-23 09:15:04,CH1,S0042,62.5,50,POS*01\r\n"  # docs/instruments golden line


def line_result() -> TestResult:
    profile = line_profile.load_builtin("ny10-line")
    decoder = line_profile.LineDecoder(profile)
    decoder.receive_data(NY10_LINE)
    reading = decoder.next_event()
    assert isinstance(reading, line_profile.LineReading)
    return build_line_result(profile, reading, line_profile.interpret(profile, reading), TZ, CONTEXT)


def astm_results() -> list[TestResult]:
    texts = [f"{record}\r".encode() for record in ASTM_RECORDS]
    frames = b"".join(build_frame(n + 1, text, final=True) for n, text in enumerate(texts))
    return [r.result for r in readings(parse_message(b"".join(texts)), frames, load_limits(None), CONTEXT, TZ)]


def edited(result: TestResult, **measurement: object) -> TestResult:
    wire = result.to_wire()
    return TestResult.from_wire({**wire, "measurement": {**wire["measurement"], **measurement}})


def test_real_driver_results_decode_to_what_they_state():
    for result in (enzyme_result(), enzyme_result("0.5210", "0.1000"), gold_result(), line_result(),
                   *astm_results()):
        assert checkable(result), result.instrument.driver
        assert redecode_flags(result) == [], result.test.item


def test_an_edited_value_or_verdict_is_a_mismatch():
    result = enzyme_result()
    assert result.verdict == "positive"  # (0.521 - 0.205) / 0.521 = 60.7 %
    assert redecode_flags(edited(result, value=12.0)) == ["raw_mismatch:value"]
    assert redecode_flags(replace(result, verdict="negative")) == ["raw_mismatch:verdict"]
    assert redecode_flags(edited(result, sample_delta_a=0.4)) == ["raw_mismatch:sample_delta_a"]
    gold = gold_result()
    assert redecode_flags(edited(gold, t_intensity=400.0, value=0.78)) == ["raw_mismatch:t_intensity",
                                                                          "raw_mismatch:value"]
    assert redecode_flags(replace(line_result(), verdict="negative", channel=2)) == [
        "raw_mismatch:channel", "raw_mismatch:verdict"]
    nitrite = astm_results()[0]
    assert nitrite.verdict == "positive"
    assert redecode_flags(replace(nitrite, verdict="negative")) == ["raw_mismatch:verdict"]


def test_raw_bytes_of_another_reading_or_garbage_are_flagged():
    other = enzyme_result("0.6000", "0.5800")  # a negative reading's bytes under a positive result
    swapped = replace(enzyme_result(), raw=other.raw)
    assert set(redecode_flags(swapped)) == {"raw_mismatch:control_delta_a", "raw_mismatch:sample_delta_a",
                                            "raw_mismatch:value", "raw_mismatch:verdict"}
    typed = replace(enzyme_result(), raw=Raw(transport="serial", data=base64.b64encode(b"hello").decode()))
    [flag] = redecode_flags(typed)
    assert flag.startswith("raw_undecodable:")
    bad_base64 = replace(gold_result(), raw=Raw(transport="modbus-rtu", data="%%%"))
    assert redecode_flags(bad_base64)[0].startswith("raw_undecodable:")
    short = replace(gold_result(), raw=Raw(transport="modbus-rtu", data=base64.b64encode(b"\x00\x01").decode()))
    assert redecode_flags(short)[0].startswith("raw_undecodable:register block")


def test_a_site_profile_or_an_unknown_driver_is_not_checked():
    gold = edited(gold_result(), profile="/etc/kuaijian/my-reader.toml")
    assert not checkable(gold) and redecode_flags(gold) == []
    unknown = replace(enzyme_result(), id=uuid7())
    unknown = replace(unknown, instrument=replace(unknown.instrument, driver="counting"))
    assert redecode_flags(unknown) == []
    assert isinstance(unknown.measurement, Measurement)
