"""The complete example of docs/configuration.md passes ``check-config`` with every instrument enabled."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import tomli_w
from typer.testing import CliRunner

from gateway.keys import generate_key_file
from kuaijian.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
DRIVERS = {"enzyme_inhibition", "modbus_profile", "astm_quantitative", "serial_line_profile"}


def _complete_example() -> str:
    section = DOC.read_text("utf-8").split("## Complete example", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match, "no TOML block under 'Complete example'"
    return match.group(1)


def test_complete_example_passes_check_config_with_every_instrument_enabled(tmp_path):
    data = tomllib.loads(_complete_example())
    assert {i["driver"] for i in data["instruments"]} == DRIVERS  # the example shows every driver
    for instrument in data["instruments"]:
        instrument["enabled"] = True
    data["gateway"]["outbox"] = str(tmp_path / "outbox.sqlite3")  # only the outbox folder is the host's
    generate_key_file(tmp_path / data["gateway"]["key_file"])
    path = tmp_path / "gateway.toml"
    path.write_text(tomli_w.dumps(data), "utf-8")
    result = CliRunner().invoke(app, ["gateway", "check-config", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{len(data['instruments'])} enabled instrument(s)" in result.output
