"""Driver config validation and the reading -> TestResult mapping (no I/O)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from drivers import registry
from drivers.base import DriverConfigError, DriverContext, LabelSource
from drivers.enzyme_inhibition import EnzymeInhibitionDriver, parse_options, to_test_result
from protocols.enzyme import NEED_DATA, ChannelReading, EnzymeDecoder, RunAssembler, judge_reading
from protocols.result import Sample, Site, TestResult

GATEWAY_TZ = timezone(timedelta(hours=8))


def context(labels: LabelSource = LabelSource()) -> DriverContext:
    return DriverContext(
        site=Site(id="cq-yz-m03", kind="market", name="Yuzhong No.3 market"),
        instrument_id="ei-1",
        operator="tech-zhang",
        clock=lambda: datetime(2026, 11, 23, 9, 20, 0, 123456, tzinfo=GATEWAY_TZ),
        labels=labels,
    )


def readings(stream: bytes) -> list[ChannelReading]:
    decoder, assembler = EnzymeDecoder(), RunAssembler()
    decoder.receive_data(stream)
    out = []
    while (event := decoder.next_event()) is not NEED_DATA:
        out += [r for r in assembler.add(event) if isinstance(r, ChannelReading)]
    return out


def test_registry_builds_the_driver_with_defaults():
    driver = registry.build("enzyme_inhibition", {"port": "/dev/ttyUSB0"}, context())
    assert isinstance(driver, EnzymeInhibitionDriver)
    cfg = driver.config
    assert (cfg.baudrate, cfg.timezone, cfg.cutoff, cfg.min_control_delta_a) == (9600, "+08:00", 50, 0.3)
    assert (cfg.suspect_band, cfg.reconnect_s, cfg.ack) == ((40, 50), 2.0, True)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "port"),
        ({"port": "/dev/x", "timezone": "CST"}, "timezone"),
        ({"port": "/dev/x", "timezone": "+25:00"}, "timezone"),
        ({"port": "/dev/x", "cutoff": 0}, "cutoff"),
        ({"port": "/dev/x", "baudrate": "fast"}, "baudrate"),
        ({"port": "/dev/x", "suspect_band": [50, 40]}, "suspect_band"),
        ({"port": "/dev/x", "suspect_band": [40]}, "suspect_band"),
        ({"port": "/dev/x", "reconnect_s": -1}, "reconnect_s"),
        ({"port": "/dev/x", "parity": "E"}, "parity"),
        ({"port": "/dev/x", "ack": "maybe"}, "ack"),
    ],
)
def test_bad_options_raise_config_error_naming_the_key(options, key):
    with pytest.raises(DriverConfigError, match=f"'{key}"):
        EnzymeInhibitionDriver(options, context())


def test_mapping_fills_every_contract_member(golden):
    options = parse_options({"port": "/dev/x"})
    reading = readings(golden[0]["stream"])[2]  # channel 3: the contract's numbers
    result = to_test_result(reading, judge_reading(reading, options.rules), context(), options)
    TestResult.from_wire(result.to_wire())
    wire = result.to_wire()
    assert wire["instrument"] == {
        "id": "ei-1", "model": "EI-412", "serial": "EI412A0157", "firmware": "2.3.1", "driver": "enzyme_inhibition"
    }
    assert wire["test"] == {
        "item": "有机磷和氨基甲酸酯类农药", "method": "GB/T 5009.199-2003", "kind": "enzyme_inhibition", "analyte": None
    }
    assert wire["measurement"] == {
        "value": 62.5, "unit": "%", "cutoff": 50.0, "control_delta_a": 0.412, "sample_delta_a": 0.1545,
        "instrument_value": 62.5, "instrument_verdict": "POS",
    }
    assert (wire["verdict"], wire["qc"], wire["channel"]) == ("positive", {"control": "sample", "flags": []}, 3)
    assert (wire["operator"], wire["site"]["id"]) == ("tech-zhang", "cq-yz-m03")
    assert wire["tested_at"] == "2026-11-23T09:15:04.000+08:00"
    assert wire["received_at"] == "2026-11-23T09:20:00.123+08:00"
    assert wire["raw"]["transport"] == "serial" and base64.b64decode(wire["raw"]["data"]) == reading.raw
    assert wire["id"][14] == "7"  # UUIDv7


def test_instrument_clock_offset_is_configurable(golden):
    options = parse_options({"port": "/dev/x", "timezone": "-03:30"})
    reading = readings(golden[0]["stream"])[0]
    result = to_test_result(reading, judge_reading(reading), context(), options)
    assert result.tested_at == "2026-11-23T09:15:04.000-03:30"


def test_keypad_sample_code_fills_sample_id_unless_a_barcode_was_scanned(golden):
    options = parse_options({"port": "/dev/x"})
    first = readings(golden[0]["stream"])[0]  # keypad code 2305
    plain = to_test_result(first, judge_reading(first), context(), options)
    assert plain.sample.id == "2305"
    label = Sample(name="菠菜", stall="A-12", barcode="6901234567892")
    labelled = LabelSource(take=lambda channel: (label, "tech-li"))
    result = to_test_result(first, judge_reading(first), context(labelled), options)
    assert (result.sample.id, result.sample.barcode, result.sample.name) == (None, "6901234567892", "菠菜")
    assert result.operator == "tech-li"
    named = LabelSource(take=lambda channel: (Sample(name="韭菜"), None))
    result = to_test_result(first, judge_reading(first), context(named), options)
    assert (result.sample.id, result.sample.name, result.operator) == ("2305", "韭菜", "tech-zhang")


def test_invalid_run_maps_to_invalid_with_the_instrument_blank_kept(golden):
    options = parse_options({"port": "/dev/x"})
    reading = readings(golden[1]["stream"])[1]
    result = to_test_result(reading, judge_reading(reading, options.rules), context(), options)
    assert result.verdict == "invalid" and result.qc.flags == ["control_delta_a_low"]
    assert result.measurement.extra["instrument_value"] is None and result.measurement.extra["instrument_verdict"] == "---"
