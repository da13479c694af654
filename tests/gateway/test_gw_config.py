"""Config loading: a valid file loads; every kind of fault names file, key path, line and why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.errors import ConfigError

VALID = """\
[gateway]
id = "gw-test-01"
key_file = "keys/gateway.key"
outbox = "/var/lib/kuaijian/outbox.sqlite3"
operator = "tech-001"

[site]
id = "yz-market-07"
kind = "market"
name = "七星岗农贸市场"

[lims]
url = "https://lims.example.cn/"

[[instruments]]
id = "ei-01"
driver = "enzyme_inhibition"

[instruments.options]
port = "/dev/ttyUSB0"

[[instruments]]
id = "cg-01"
driver = "modbus_profile"
enabled = false
options = { host = "192.168.1.20", port = 502 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, "utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.issues


def test_valid_config_loads_with_defaults_and_resolved_paths(tmp_path):
    config = load_config(write(tmp_path, VALID))
    assert config.gateway.key_file == tmp_path / "keys" / "gateway.key"
    assert config.gateway.outbox == Path("/var/lib/kuaijian/outbox.sqlite3")
    assert config.gateway.status_port is None
    assert config.lims.url == "https://lims.example.cn"
    assert (config.lims.batch_size, config.lims.timeout_s, config.lims.retry_min_s, config.lims.retry_max_s) == (
        100, 10.0, 0.5, 30.0)
    assert [(i.id, i.enabled, i.options) for i in config.instruments] == [
        ("ei-01", True, {"port": "/dev/ttyUSB0"}),
        ("cg-01", False, {"host": "192.168.1.20", "port": 502}),
    ]
    assert config.site.to_site().kind == "market"


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.toml"
    assert errors_of(missing) == [f"{missing}: config file not found"]


def test_toml_syntax_error_names_its_line(tmp_path):
    path = write(tmp_path, VALID.replace('operator = "tech-001"', "operator = tech-001"))
    [issue] = errors_of(path)
    assert issue.startswith(f"{path}:5: TOML syntax error")


def test_missing_key_names_key_path_and_table_line(tmp_path):
    path = write(tmp_path, VALID.replace('kind = "market"\n', ""))
    assert errors_of(path) == [f"{path}:7: site.kind: missing required key"]


def test_missing_table_is_named(tmp_path):
    path = write(tmp_path, VALID.replace('[lims]\nurl = "https://lims.example.cn/"\n', ""))
    assert errors_of(path) == [f"{path}: lims: missing table"]


def test_bad_site_kind_names_allowed_values_and_line(tmp_path):
    path = write(tmp_path, VALID.replace('kind = "market"', 'kind = "farm"'))
    [issue] = errors_of(path)
    assert issue.startswith(f"{path}:9: site.kind: must be one of 'market', 'supermarket'")
    assert issue.endswith("got 'farm'")


def test_unknown_driver_lists_known_drivers(tmp_path):
    path = write(tmp_path, VALID.replace('driver = "modbus_profile"', 'driver = "modbus"'))
    assert errors_of(path) == [
        f"{path}:24: instruments[1].driver: unknown driver 'modbus'; "
        "known: astm_quantitative, enzyme_inhibition, modbus_profile, serial_line_profile"
    ]


def test_duplicate_instrument_ids_name_the_second_one(tmp_path):
    path = write(tmp_path, VALID.replace('id = "cg-01"', 'id = "ei-01"'))
    assert errors_of(path) == [
        f"{path}:23: instruments[1].id: duplicate instrument id 'ei-01' (first used by instruments[0])"
    ]


def test_wrong_types_and_unknown_keys_are_all_reported(tmp_path):
    text = VALID.replace('url = "https://lims.example.cn/"', 'url = "https://lims.example.cn/"\nbatch_size = "10"')
    text = text.replace("enabled = false", 'enabled = "no"\ncolour = "red"')
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:14: lims.batch_size: wrong type: expected int, got str '10'",
        f"{path}:26: instruments[1].enabled: wrong type: expected bool, got str 'no'",
        f"{path}:27: instruments[1].colour: unknown key (misspelt?)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('id = "gw-test-01"', 'id = "GW_01"', ":2: gateway.id: must match pattern"),
        ('url = "https://lims.example.cn/"', 'url = "ftp://x"', ":13: lims.url: must be an http:// or https:// URL"),
        ('url = "https://lims.example.cn/"', 'url = "http://x"\nretry_min_s = 5\nretry_max_s = 1',
         ":12: lims: retry_max_s (1.0) is below retry_min_s (5.0)"),
        ('operator = "tech-001"', 'operator = "t"\nstatus_port = 70000',
         ":6: gateway.status_port: must be <= 65535, got 70000"),
    ],
)
def test_value_rules_name_key_and_line(tmp_path, old, new, expected):
    path = write(tmp_path, VALID.replace(old, new))
    [issue] = errors_of(path)
    assert issue.startswith(f"{path}{expected}"), issue


def test_calibration_due_is_a_toml_date_or_an_iso_string(tmp_path):
    text = VALID.replace('driver = "enzyme_inhibition"\n', 'driver = "enzyme_inhibition"\ncalibration_due = 2027-03-01\n')
    text = text.replace("enabled = false", 'enabled = false\ncalibration_due = "2026-12-31"')
    config = load_config(write(tmp_path, text))
    assert [i.calibration_due for i in config.instruments] == [date(2027, 3, 1), date(2026, 12, 31)]
    assert load_config(write(tmp_path, VALID)).instruments[0].calibration_due is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('"2027-02-30"', "'2027-02-30' is not a calendar date (day is out of range for month)"),
        ('"01/03/2027"', "must be a date written YYYY-MM-DD, got '01/03/2027'"),
        ("2027-03-01T08:00:00", "must be a date without a time of day, got 2027-03-01T08:00:00"),
        ("20270301", "must be a date (YYYY-MM-DD), got int 20270301"),
    ],
)
def test_bad_calibration_due_names_file_line_and_key(tmp_path, value, why):
    path = write(tmp_path, VALID.replace("enabled = false", f"enabled = false\ncalibration_due = {value}"))
    assert errors_of(path) == [f"{path}:26: instruments[1].calibration_due: {why}"]


def test_config_written_back_reads_the_same(tmp_path):
    """``GatewayConfig.to_data`` is TOML-ready (tomli-w) and loads into an equal config."""
    import tomli_w

    config = load_config(write(tmp_path, VALID.replace("enabled = false", "enabled = false\ncalibration_due = 2027-03-01")))
    again = load_config(write(tmp_path, tomli_w.dumps(config.to_data())))
    assert again == config
    assert again.instruments[1].calibration_due == date(2027, 3, 1)
