"""Profile loading: built-ins load; every broken profile names file, line, key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.base import DriverConfigError
from drivers.modbus_profile import ModbusProfileDriver
from protocols.modbus_profile import ProfileError, builtin_names, load_builtin, load_profile, resolve_profile

from modbus_support import gateway_context

GR100 = (Path(__file__).parents[2] / "protocols" / "profiles" / "gr100.toml").read_text("utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_builtin_profiles_load_and_differ():
    assert {"gr100", "huaxin-cg8"} <= set(builtin_names())
    gr, hx = load_builtin("gr100"), load_builtin("huaxin-cg8")
    assert gr.result.fields["ratio"].word_order == "big"
    assert hx.result.fields["ratio"].word_order == "little"
    assert (gr.handshake.ack.kind, hx.handshake.ack.kind) == ("write_sequence", "write_value")
    assert hx.analytes[0x11].item == "克伦特罗"
    assert {e.analyte for e in gr.analytes.values()} == {e.analyte for e in hx.analytes.values()}


@pytest.mark.parametrize(
    ("old", "new", "key", "needle", "problem"),
    [
        ('ratio        = { address = 208, type = "float32", word_order = "big" }',
         'ratio        = { address = 208, type = "float32", word_order = "middle" }',
         "result.fields.ratio.word_order", "ratio        = {", "must be one of 'big', 'little'"),
        ('cutoff       = { address = 210, type = "float32"',
         'cutoff       = { address = 210, type = "float64"',
         "result.fields.cutoff.type", "cutoff       = {", "uint16"),
        ('sample_code  = { address = 226, type = "string", words = 8 }',
         'sample_code  = { address = 230, type = "string", words = 8 }',
         "result", "[result]", "outside the block"),
        ('ratio = "ratio"', 'ratio = "ratoi"', "verdict.ratio", 'ratio = "ratoi"', "no field 'ratoi'"),
        ("c_min = 100.0", 'c_min = "high"', "verdict.c_min", "c_min", "expected float, got str 'high'"),
        ('ack = { kind = "write_sequence", address = 110 }', 'ack = { kind = "write_sequence" }',
         "handshake.ack.address", "ack = {", "missing required key"),
        ('sequence = "sequence"', 'sequence = "kit_lot"', "handshake.sequence", 'sequence = "kit_lot"',
         "is string"),
    ],
)
def test_profile_errors_name_file_line_key(old, new, key, needle, problem, tmp_path):
    assert old in GR100
    broken = GR100.replace(old, new)
    path = tmp_path / "broken.toml"
    path.write_text(broken, "utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert (err.source, err.key) == (str(path), key)
    assert err.line == _line_of(broken, needle)
    assert problem in err.problem
    assert str(err).startswith(f"{path}:{err.line}: {key}: ")


def test_toml_syntax_error_names_line():
    with pytest.raises(ProfileError) as info:
        load_profile(GR100.replace("c_min = 100.0", "c_min = = 100.0"))
    assert info.value.line == _line_of(GR100, "c_min = 100.0")
    assert info.value.source == "<profile text>"


def test_unknown_builtin_and_missing_file():
    with pytest.raises(ProfileError, match="no built-in profile 'gr999'"):
        resolve_profile("gr999")
    with pytest.raises(ProfileError, match="cannot read profile file"):
        resolve_profile("/nonexistent/x.toml")


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"profile": "gr100", "transport": "tcp", "port": 502}, "'host'"),
        ({"profile": "gr100", "transport": "rtu", "port": 502}, "'port'"),
        ({"profile": "gr100", "transport": "usb", "port": "/dev/x"}, "'transport'"),
        ({"profile": "gr100", "transport": "rtu", "port": "/dev/x", "timezone": "CST"}, "'timezone'"),
        ({"profile": "gr100", "transport": "rtu", "port": "/dev/x", "unit": 300}, "'unit'"),
        ({"profile": "gr100", "transport": "rtu", "port": "/dev/x", "poll": 1}, "'poll'"),
        ({"profile": "nope", "transport": "rtu", "port": "/dev/x"}, "'profile'"),
    ],
)
def test_driver_options_errors_name_the_key(options, key):
    with pytest.raises(DriverConfigError, match=key):
        ModbusProfileDriver(options, gateway_context())
