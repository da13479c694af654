"""SerialLineProfileDriver end to end over a real pty against the line simulator, faults included."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_sim.line import LineSimulator, LineTruth, load_spec, profile_text

from .line_support import GX4400_TEXT, Collector, assert_matches_truth, with_driver

ROOT = Path(__file__).resolve().parents[2]
FAULTS = [None, "garbage", None, "bad_checksum", None, "truncated", None, None]


async def write_all(sim: LineSimulator, faults: list[str | None]) -> list[LineTruth]:
    return [await asyncio.to_thread(sim.write_reading, fault) for fault in faults]


def run_profile(profile: str, spec_source: str, port: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="drivers.serial_line_profile")

    async def body(collector: Collector) -> None:
        truth = await write_all(sim, FAULTS)
        delivered = [t for t in truth if t.delivered]
        assert len(delivered) == len(FAULTS) - 2
        await collector.wait_for(lambda: len(collector.results) >= len(delivered))
        for result, expected in zip(collector.results, delivered, strict=True):
            assert_matches_truth(result, expected)
        kinds = [getattr(r, "error_kind", None) for r in caplog.records]
        assert kinds.count("bad_checksum") == 1 and kinds.count("no_match") == 2  # noise, cut line
        assert all(isinstance(getattr(r, "byte_offset", None), int) for r in caplog.records if r.msg.startswith("%s at"))

    with LineSimulator(load_spec(*profile_text(spec_source)), port, seed=7) as sim:
        asyncio.run(with_driver(profile, port, body))


def test_ny10_builtin_profile_end_to_end(tmp_path, caplog):
    run_profile("ny10-line", "ny10-line", tmp_path / "ny10", caplog)


def test_second_vendor_is_only_a_data_file(tmp_path, caplog):
    path = tmp_path / "gx4400.toml"
    path.write_text(GX4400_TEXT, "utf-8")
    run_profile(str(path), str(path), tmp_path / "gx4400", caplog)


def test_verdicts_cover_every_outcome_for_the_second_vendor(tmp_path):
    path = tmp_path / "gx4400.toml"
    path.write_text(GX4400_TEXT, "utf-8")
    sim = LineSimulator(load_spec(*profile_text(str(path))), tmp_path / "gx", seed=11)

    async def body(collector: Collector) -> None:
        truth = await write_all(sim, [None] * 24)
        await collector.wait_for(lambda: len(collector.results) == 24)
        assert [r.verdict for r in collector.results] == [t.verdict for t in truth]
        assert {"positive", "negative", "invalid"} <= {r.verdict for r in collector.results}
        assert {r.measurement.extra["instrument_verdict"] for r in collector.results} == {"+", "-", "?"}

    with sim:
        asyncio.run(with_driver(str(path), tmp_path / "gx", body))


def test_cli_prints_ready_then_serves_and_finishes():
    proc = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "line", "--profile", "ny10-line", "--results", "2",
         "--interval", "0.01", "--seed", "1", "--truth"],
        cwd=ROOT, capture_output=True, text=True, timeout=20,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr
    assert lines[0].startswith("READY /dev/pts/") and lines[-1] == "DONE 2 reading(s)"
    assert sum(line.startswith("TRUTH ") for line in lines) == 2
