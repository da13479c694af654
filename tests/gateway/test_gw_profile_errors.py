"""A broken profile file: every mistake at once, each at the line of its field, each printed once by
``check-config`` however many instruments use the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols.modbus_profile import ProfileError, load_profile

from .test_gw_check_config_drivers import GOOD_PROFILE, check, write

GR100 = GOOD_PROFILE.read_text("utf-8")
BREAKS = [  # (text in gr100.toml, replacement, key, problem)
    ("count = 28", 'count = "many"', "identity.count", "expected int, got str"),
    ('ratio        = { address = 208, type = "float32"', 'ratio        = { address = 208, type = "float64"',
     "result.fields.ratio.type", "uint16"),
    ('day          = { address = 214, type = "uint16" }', 'day          = { address = 214, type = "uint16", colour = 1 }',
     "result.fields.day.colour", "unknown key"),
]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _broken(folder: Path, breaks: list[tuple[str, str, str, str]]) -> tuple[Path, str]:
    text = GR100
    for old, new, _, _ in breaks:
        assert old in text
        text = text.replace(old, new, 1)
    path = folder / "vendor.toml"
    path.write_text(text, "utf-8")
    return path, text


def test_every_mistake_of_a_file_is_named_at_its_line(tmp_path):
    path, text = _broken(tmp_path, BREAKS)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    expected = [(_line_of(text, new), key) for _, new, key, _ in BREAKS]
    assert [(line, key) for line, key, _ in caught.value.problems] == expected
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    for (line, key), (_, _, _, problem), message in zip(expected, BREAKS, lines):
        assert message.startswith(f"{path}:{line}: {key}: ") and problem in message, message


def test_every_broken_cross_reference_is_named_at_its_line(tmp_path):
    path, text = _broken(tmp_path, [('sequence = "sequence"', 'sequence = "seq_no"', "", ""),
                                    ('channel = "channel"', 'channel = "lane"', "", "")])
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert [(line, key) for line, key, _ in caught.value.problems] == [
        (_line_of(text, 'sequence = "seq_no"'), "handshake.sequence"),
        (_line_of(text, 'channel = "lane"'), "mapping.channel")]
    assert "no field 'seq_no' in [result.fields]" in str(caught.value)
    assert "no field 'lane' in [result.fields]" in str(caught.value)


def test_check_config_prints_each_problem_once_for_three_instruments(tmp_path, key_path):
    profile, text = _broken(tmp_path, BREAKS)
    options = {"profile": str(profile), "transport": "tcp", "host": "127.0.0.1"}
    path = write(tmp_path, [{"id": f"gr-0{n}", "driver": "modbus_profile", "options": {**options, "port": 502 + n}}
                            for n in range(1, 4)])
    result = check(path)
    assert result.exit_code == 1
    for _, new, key, _ in BREAKS:
        assert result.output.count(f"{profile}:{_line_of(text, new)}: {key}: ") == 1, result.output
    assert result.output.count("3 problem(s) listed above") == 2
    assert "instruments[1].options.profile: instrument 'gr-02'" in result.output
    assert "instruments[2].options.profile: instrument 'gr-03'" in result.output
