"""EnzymeSimulator on a real pty: bytes on the wire, truth, faults, host writes, CLI process."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.enzyme import EnzymeSimulator, Fault, FaultError

from .enzyme_support import MARKER, decode, read_exactly, read_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[EnzymeSimulator]:
    with EnzymeSimulator(tmp_path / "ei412", seed=7, channels=6) as simulator:
        yield simulator


@pytest.fixture
def host(sim: EnzymeSimulator) -> Iterator[int]:
    fd = os.open(sim.port, os.O_RDWR | os.O_NOCTTY)
    yield fd
    os.close(fd)


def test_symlink_points_at_the_pty_slave(sim, tmp_path):
    assert os.path.islink(tmp_path / "ei412")
    assert os.readlink(tmp_path / "ei412") == sim.slave_name and sim.slave_name.startswith("/dev/pts/")


def test_a_run_arrives_byte_exact_and_matches_the_truth(sim, host):
    truth = sim.write_run()
    sim.write_bytes(MARKER)
    readings, errors = decode(read_until(host, MARKER))
    assert len(truth) == 6 and all(t.delivered for t in truth) and errors == []
    assert [r.raw for r in readings] == [t.frames for t in truth]
    assert [r.source_key for r in readings] == [t.source_key for t in truth]
    assert [r.measurement.sample_delta_a for r in readings] == [t.sample_delta_a for t in truth]


def test_explicit_faults_destroy_exactly_their_frames(sim, host):
    truth = sim.write_run(faults=[Fault("bad_checksum", 2), Fault("truncated", 5), Fault("garbage", 3)])
    assert [t.delivered for t in truth] == [True, False, True, True, False, True]
    sim.write_bytes(MARKER)  # its '$' ends the truncated frame
    readings, errors = decode(read_until(host, MARKER))
    assert sorted(e.kind for e in errors) == ["bad_checksum", "garbage", "truncated"]
    assert [r.source_key for r in readings] == [t.source_key for t in truth if t.delivered]


def test_fault_on_the_control_frame_loses_the_whole_run(sim, host):
    truth = sim.write_run(faults=[Fault("bad_checksum", "C")])
    assert not any(t.delivered for t in truth)


def test_random_faults_match_the_delivered_truth(tmp_path):
    with EnzymeSimulator(tmp_path / "noisy", seed=11, fault_rate=0.3) as noisy:
        fd = os.open(noisy.port, os.O_RDWR | os.O_NOCTTY)
        try:
            truth = [t for _ in range(8) for t in noisy.write_run()]
            noisy.write_bytes(MARKER)  # ends any truncated last frame
            readings, errors = decode(read_until(fd, MARKER))
        finally:
            os.close(fd)
    assert errors, "fault_rate 0.3 over 8 runs should produce errors"
    assert {r.source_key for r in readings} == {t.source_key for t in truth if t.delivered}
    assert any(not t.delivered for t in truth) and any(t.delivered for t in truth)


def test_unknown_fault_kinds_are_refused(tmp_path):
    with pytest.raises(FaultError):
        Fault("bitflip", 1)
    with pytest.raises(FaultError):
        EnzymeSimulator(tmp_path / "x", fault_kinds=["bitflip"])


def test_host_writes_are_read_and_discarded(sim, host):
    os.set_blocking(host, False)
    payload, deadline = b"?" * 200_000, time.monotonic() + 10
    while payload:
        assert time.monotonic() < deadline, "the simulator stopped draining host writes"
        _, writable, _ = select.select([], [host], [], 1.0)
        if writable:
            payload = payload[os.write(host, payload[:4096]) :]
    os.set_blocking(host, True)
    truth = sim.write_run()
    sim.write_bytes(MARKER)
    readings, _ = decode(read_until(host, MARKER))
    assert [r.raw for r in readings] == [t.frames for t in truth]


def test_random_runs_are_realistic(tmp_path):
    simulator = EnzymeSimulator(tmp_path / "plan", seed=1)
    plans = [simulator.plan_run(channels=8) for _ in range(400)]
    controls = [p.control_delta_a for p in plans]
    invalid = sum(float(c) < 0.3 for c in controls)
    assert 2 <= invalid <= 30  # ~3 %
    assert all(0.35 <= float(c) <= 0.6 for c in controls if float(c) >= 0.3)
    assert [p.run for p in plans[:3]] == [1, 2, 3]


def test_close_removes_the_symlink(tmp_path):
    simulator = EnzymeSimulator(tmp_path / "gone")
    simulator.open()
    simulator.close()
    assert not os.path.lexists(tmp_path / "gone")


def test_cli_prints_ready_serves_runs_and_stops_on_sigterm(tmp_path):
    link = tmp_path / "cli-ei412"
    command = [sys.executable, "-m", "firmware_sim", "enzyme", "--link", str(link), "--interval", "0.05"]
    command += ["--seed", "5", "--channels", "3"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == f"READY {link}"
            fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
            try:
                stream = b""
                while len(decode(stream)[0]) < 6:
                    stream += read_exactly(fd, 1)
            finally:
                os.close(fd)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()
    assert not os.path.lexists(link)
