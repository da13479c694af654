"""Line-profile loading: the built-in profile loads; every error names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.base import DriverConfigError
from drivers.registry import build
from protocols.line_profile import LineProfileError, builtin_names, load_builtin, load_profile, parse_profile

from .line_support import GX4400_TEXT, NY10_TEXT, context


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(needle))


def load_broken(tmp_path: Path, text: str) -> LineProfileError:
    path = tmp_path / "acme.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(LineProfileError) as caught:
        load_profile(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_builtin_and_second_vendor_load():
    assert "ny10-line" in builtin_names() and "gr100" not in builtin_names()
    assert load_builtin("ny10-line").profile.model == "NY-10"
    assert parse_profile(GX4400_TEXT, "gx.toml").checksum.kind == "sum8"


def test_bad_regex_names_the_pattern_line(tmp_path):
    text = NY10_TEXT.replace("pattern = 'NY10,(?P<serial>", "pattern = 'NY10,(?P<serial", 1)
    err = load_broken(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "pattern ="), "line.pattern")
    assert "invalid regular expression" in err.problem


def test_field_without_group_is_an_unknown_field(tmp_path):
    text = NY10_TEXT.replace("[fields.flag]", "[fields.bogus]\ntype = \"str\"\n\n[fields.flag]")
    err = load_broken(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "[fields.bogus]"), "fields.bogus")
    assert "no named group 'bogus'" in err.problem


def test_group_without_field_spec_is_an_error(tmp_path):
    text = NY10_TEXT.replace('[fields.flag]\ntype = "str"\n', "")
    err = load_broken(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "pattern ="), "line.pattern")
    assert "'flag' has no [fields.flag] spec" in err.problem


def test_missing_mapping_value(tmp_path):
    text = NY10_TEXT.replace('value = "inhibition"\n', "")
    err = load_broken(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "[mapping]"), "mapping.value")
    assert err.problem == "missing required key"


def test_mapping_to_a_field_of_the_wrong_type(tmp_path):
    text = NY10_TEXT.replace('value = "inhibition"', 'value = "flag"')
    err = load_broken(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, 'value = "flag"'), "mapping.value")
    assert "field 'flag' is str" in err.problem


def test_bad_checksum_kind(tmp_path):
    text = NY10_TEXT.replace('kind = "xor8"', 'kind = "crc16"')
    err = load_broken(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, 'kind = "crc16"'), "checksum.kind")
    assert "must be one of 'none', 'xor8', 'sum8', got 'crc16'" in err.problem


def test_check_config_path_reports_file_and_line(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(NY10_TEXT.replace('kind = "threshold_at_least"', 'kind = "most_votes"'), "utf-8")
    with pytest.raises(DriverConfigError, match=rf"{path}:\d+: verdict.kind: must be one of"):
        build("serial_line_profile", {"profile": str(path), "port": "/dev/null"}, context())
    with pytest.raises(DriverConfigError, match="option 'baudrate'"):
        build("serial_line_profile", {"profile": "ny10-line", "port": "/dev/null", "baudrate": 0}, context())
