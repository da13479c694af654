"""`kuaijian demo --results N --export DIR` as a user runs it, then the bundle checked three ways."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import subprocess
import sys
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from kuaijian.cli import app
from protocols.privacy import personal_data_findings

from ..independent_verifier import verify as independent_verify
from .verdict_rules import recompute

KUAIJIAN = str(Path(sys.executable).with_name("kuaijian"))


def test_demo_exports_a_bundle_that_verifies(tmp_path):
    """100 results: enough for the demo's replayed enzyme readings and too-fast gold channels to show."""
    out = tmp_path / "out"
    run = subprocess.run([KUAIJIAN, "demo", "--results", "100", "--export", str(out), "--port", "0",
                          "--data-dir", str(tmp_path / "demo")], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "result(s) stored at the LIMS" in run.stderr
    lines = [line for line in run.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d  \S+.*  (阴性|阳性|无效)", line)]
    assert len(lines) >= 100, "one terminal line per stored result"
    assert "checkpoint signed" in run.stderr

    verified = CliRunner().invoke(app, ["audit", "verify", str(out)])
    assert verified.exit_code == 0, verified.output
    assert independent_verify(out) == []
    checkpoints = [json.loads(line) for line in (out / "checkpoints.jsonl").read_text("utf-8").splitlines()]
    assert sum(c["count"] for c in checkpoints) == len((out / "envelopes.jsonl").read_text().splitlines())

    results = [json.loads(line)["result"] for line in (out / "envelopes.jsonl").read_text("utf-8").splitlines()]
    assert len(results) >= 20
    assert {r["raw"]["transport"] for r in results} == {"serial", "modbus-rtu", "modbus-tcp", "astm"}
    assert {r["test"]["kind"] for r in results} == {"enzyme_inhibition", "colloidal_gold", "quantitative"}
    assert "cg8-01" in {r["instrument"]["id"] for r in results}, "the profile-only vendor is missing"
    mismatches = [(r["instrument"]["id"], r["verdict"], recompute(r)) for r in results if recompute(r) != r["verdict"]]
    assert mismatches == []
    assert Counter(r["verdict"] for r in results)["negative"] > 0

    flags = Counter(json.loads(line)["code"] for line in (out / "flags.jsonl").read_text("utf-8").splitlines())
    assert flags["replayed_measurement"] >= 2 and flags["too_fast_channel"] >= 1, flags
    assert flags["operator_not_enrolled"] == 0  # the room's technician is enrolled at the site
    named = [e for r in results for e in r.get("evidence", [])]
    assert named and len(named) + flags["camera_failed"] == len(results)  # a snapshot, or a flag saying why not
    images = list((out / "evidence").iterdir())
    assert images and "evidence image(s) match their hashes" in verified.output

    envelopes = [json.loads(line) for line in (out / "envelopes.jsonl").read_text("utf-8").splitlines()]
    assert [f for e in envelopes for f in personal_data_findings(e)] == []  # receipts publish envelopes whole
    proofs = (out / "inclusion.jsonl").read_text("utf-8").splitlines()
    assert len(proofs) == len(envelopes), "every exported envelope is in the signed log head"
    receipt = tmp_path / "receipt.json"
    proved = CliRunner().invoke(app, ["audit", "prove", results[-1]["id"], "--bundle", str(out), "--out", str(receipt)])
    assert proved.exit_code == 0, proved.output
    checked = CliRunner().invoke(app, ["audit", "verify-receipt", str(receipt)])
    assert checked.exit_code == 0 and "OK   inclusion" in checked.output, checked.output


def test_running_demo_prints_logins_that_open_the_board_and_the_console(tmp_path):
    """`kuaijian demo` until Ctrl-C: the printed manager and regulator logins work on the printed pages."""
    import re
    import signal
    import time

    import httpx

    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        demo = subprocess.Popen([KUAIJIAN, "demo", "--port", "0", "--data-dir", str(tmp_path / "demo")],
                                stdout=sink, stderr=subprocess.STDOUT)
    pages = r"(?P<url>http://127\.0\.0\.1:\d+/(?:board/[\w-]+|console))\s+\(log in as (?P<user>\S+) / (?P<pw>\S+)\)"
    try:
        deadline = time.monotonic() + 60
        while len(found := re.findall(pages, log.read_text(errors="replace"))) < 2:
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)  # polling the demo's own output file for the lines it prints
        for url, user, password in found:
            base = url.split("/", 3)[:3]
            with httpx.Client(base_url="/".join(base), timeout=10) as http:
                login = http.post("/api/v1/auth/login", json={"username": user, "password": password})
                assert login.status_code == 200, login.text
                page = http.get(url, headers={"Authorization": f"Bearer {login.json()['token']}"})
                assert page.status_code == 200, page.text[:500]
                assert ("gw-demo-01" if url.endswith("/console") else "七星岗农贸市场") in page.text
        assert {user for _, user, _ in found} == {"demo.manager", "demo.regulator"}

        room, badge, technician = re.search(r"(http://127\.0\.0\.1:\d+/)\s+\(label samples here; sign in with badge "
                                            r"(\S+), or .* results carry (\S+)\)", log.read_text()).groups()
        deadline = time.monotonic() + 30  # the room page and its roster come up with the gateway
        with httpx.Client(base_url=room, timeout=10) as http:
            while True:
                try:
                    if http.post("/sign-in", data={"badge": badge}).status_code == 303:
                        break
                except httpx.ConnectError:
                    pass
                assert time.monotonic() < deadline, "the printed badge never signed in at the room page"
                time.sleep(0.2)
            assert technician in http.get("/").text  # the demo technician is signed in
    finally:
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) in (0, 130), log.read_text(errors="replace")


def test_demo_on_a_busy_port_says_so_and_how_to_choose_another(tmp_path):
    """Another server already listens on the LIMS port: the demo starts nothing and names the way out."""
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        data_dir = tmp_path / "demo"
        run = subprocess.run([KUAIJIAN, "demo", "--port", str(port), "--data-dir", str(data_dir)],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"port {port} on 127.0.0.1 is in use" in run.stderr
    assert "kuaijian demo --port" in run.stderr and "DEMO_PORT" in run.stderr and "--port 0" in run.stderr
    assert not data_dir.exists()  # nothing started, nothing written


def _pids_of(marker: str) -> list[int]:
    """Processes whose command line holds ``marker`` (the demo's own simulator, by its pty path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_second_demo_leaves_a_running_one_alone_and_a_stopped_simulator_is_an_outage(tmp_path):
    folder = tmp_path / "demo"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen([KUAIJIAN, "demo", "--port", "0", "--data-dir", str(folder)], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 90
        while "logs in" not in log.read_text(errors="replace"):
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)  # polling the demo's own output file for the line it prints
        second = subprocess.run([KUAIJIAN, "demo", "--port", "0", "--data-dir", str(folder)], capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 2 and f"another demo (pid {demo.pid}) is running in {folder}" in second.stderr
        assert (folder / "logs" / "lims.log").exists() and demo.poll() is None  # nothing of the first one wiped

        (enzyme,) = _pids_of(str(folder / "ttyEI01"))
        os.kill(enzyme, signal.SIGKILL)
        while "sim-enzyme stopped" not in log.read_text(errors="replace"):
            assert demo.poll() is None and time.monotonic() < deadline + 60, log.read_text(errors="replace")
            time.sleep(0.2)
        assert "the demo goes on" in log.read_text(errors="replace") and demo.poll() is None
    finally:
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) in (0, 130), log.read_text(errors="replace")
