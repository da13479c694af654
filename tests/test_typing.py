"""mypy over protocols/ and drivers/ (config in pyproject.toml) finds no error; NEED_DATA narrows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MYPY = [sys.executable, "-m", "mypy"]

NARROWED = """
from protocols.enzyme import EnzymeDecoder, RunAssembler
from protocols.need_data import NEED_DATA

def pull(decoder: EnzymeDecoder, assembler: RunAssembler) -> None:
    while (event := decoder.next_event()) is not NEED_DATA:
        assembler.add(event)
"""
NOT_NARROWED = """
from protocols.enzyme import EnzymeDecoder, RunAssembler

def pull(decoder: EnzymeDecoder, assembler: RunAssembler) -> None:
    assembler.add(decoder.next_event())
"""


def _mypy(*args: str, cwd: Path = ROOT) -> tuple[int, str]:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run([*MYPY, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_protocols_and_drivers_type_check_without_errors():
    code, text = _mypy("--config-file", str(ROOT / "pyproject.toml"))
    assert code == 0, text
    assert "Success: no issues found" in text


def test_need_data_narrows_the_event_union(tmp_path):
    (tmp_path / "narrowed.py").write_text(NARROWED)
    (tmp_path / "not_narrowed.py").write_text(NOT_NARROWED)
    cache = str(tmp_path / "cache")
    code, text = _mypy("--cache-dir", cache, str(tmp_path / "narrowed.py"), cwd=tmp_path)
    assert code == 0, text
    code, text = _mypy("--cache-dir", cache, str(tmp_path / "not_narrowed.py"), cwd=tmp_path)
    assert code == 1
    assert 'incompatible type "RunStarted | ControlMeasured | ChannelMeasured | RunEnded | FrameError | NeedData"' in text
