"""A built-in profile is parsed once per process and shared by every driver; a profile file is re-read."""

from __future__ import annotations

from pathlib import Path

from drivers.modbus_profile import ModbusProfileDriver

from modbus_support import gateway_context

GR100 = Path(__file__).parents[2] / "protocols" / "profiles" / "gr100.toml"


def _driver(profile: str, port: int) -> ModbusProfileDriver:
    options = {"profile": profile, "transport": "tcp", "host": "127.0.0.1", "port": port}
    return ModbusProfileDriver(options, gateway_context())


def test_drivers_of_one_builtin_profile_share_it():
    first, second, other = _driver("gr100", 1502), _driver("gr100", 1503), _driver("huaxin-cg8", 1504)
    assert first.profile is second.profile
    assert other.profile is not first.profile
    assert other.profile.profile.name == "huaxin-cg8"


def test_a_profile_file_is_read_again_for_each_driver(tmp_path: Path):
    path = tmp_path / "site.toml"
    path.write_text(GR100.read_text("utf-8"), "utf-8")
    before = _driver(str(path), 1502)
    path.write_text(GR100.read_text("utf-8").replace('model = "GR-100"', 'model = "GR-100B"'), "utf-8")
    after = _driver(str(path), 1502)
    assert (before.profile.profile.model, after.profile.profile.model) == ("GR-100", "GR-100B")
