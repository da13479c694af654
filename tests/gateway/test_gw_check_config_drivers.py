"""`kuaijian gateway check-config` also validates each driver's options and Modbus profile."""

from __future__ import annotations

from pathlib import Path

import tomli_w
from typer.testing import CliRunner

from kuaijian.cli import app

from .conftest import SITE

GOOD_PROFILE = Path(__file__).resolve().parents[2] / "protocols" / "profiles" / "gr100.toml"


def write(folder: Path, instruments: list[dict]) -> Path:
    config = {
        "gateway": {"id": "gw-check", "key_file": "gateway.key", "outbox": "outbox.sqlite3", "operator": "t-1"},
        "site": {"id": SITE.id, "kind": SITE.kind, "name": SITE.name}, "lims": {"url": "http://127.0.0.1:9"}, "instruments": instruments,
    }
    path = folder / "gateway.toml"
    path.write_text(tomli_w.dumps(config), "utf-8")
    return path


def check(path: Path):
    return CliRunner().invoke(app, ["gateway", "check-config", "--config", str(path)])


def test_valid_profiles_and_options_pass(tmp_path, key_path, serial_device):
    path = write(tmp_path, [
        {"id": "ei-01", "driver": "enzyme_inhibition", "options": {"port": serial_device}},
        {"id": "gr-01", "driver": "modbus_profile",
         "options": {"profile": str(GOOD_PROFILE), "transport": "tcp", "host": "127.0.0.1", "port": 502}},
    ])
    result = check(path)
    assert result.exit_code == 0, result.output
    assert "2 enabled instrument(s)" in result.output


def test_broken_profile_and_bad_option_are_named_with_file_and_line(tmp_path, key_path):
    broken = tmp_path / "vendor.toml"
    broken.write_text(GOOD_PROFILE.read_text("utf-8").replace('word_order = "big"', 'word_order = "middle"', 1))
    path = write(tmp_path, [
        {"id": "ei-01", "driver": "enzyme_inhibition", "options": {"baudrate": 9600}},
        {"id": "gr-01", "driver": "modbus_profile",
         "options": {"profile": str(broken), "transport": "tcp", "host": "127.0.0.1", "port": 502}},
    ])
    result = check(path)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2, result.output
    assert lines[0].startswith(f"{path}:") and "instruments[0].options" in lines[0] and "port" in lines[0]
    assert "instruments[1].options" in lines[1] and f"{broken}:" in lines[1] and "word_order" in lines[1]
