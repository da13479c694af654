"""``kuaijian gateway`` commands: init, check-config, pubkey, and run as a real process with JSON logs."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kuaijian.cli_gateway import gateway_app
from gateway.config import load_config
from gateway.keys import kid_of, load_private_key, public_key_b64url
from gateway.logging_setup import JsonFormatter

from .conftest import config_data, wait_until, write_config

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(gateway_app, list(args))


def test_init_writes_a_valid_config_and_a_0600_key(tmp_path):
    out = invoke("init", "--dir", str(tmp_path / "gw"), "--gateway-id", "gw-demo-01", "--site-id", "yz-market-07",
                 "--site-kind", "school", "--site-name", "巴蜀小学 \"食堂\"", "--lims-url", "http://10.0.0.5:8000")
    assert out.exit_code == 0, out.output
    config = load_config(tmp_path / "gw" / "gateway.toml")
    assert (config.gateway.id, config.site.kind, config.site.name) == ("gw-demo-01", "school", "巴蜀小学 \"食堂\"")
    assert [(i.driver, i.options) for i in config.instruments] == [("enzyme_inhibition", {"port": "/dev/ttyUSB0"})]
    assert stat.S_IMODE(config.gateway.key_file.stat().st_mode) == 0o600
    key = load_private_key(config.gateway.key_file)
    assert f"public key: {public_key_b64url(key)}" in out.output and f"kid:        {kid_of(key)}" in out.output
    assert str(tmp_path / "gw" / "gateway.toml") in out.output


def test_init_refuses_to_overwrite_without_force(tmp_path):
    assert invoke("init", "--dir", str(tmp_path)).exit_code == 0
    key_before = (tmp_path / "gateway.key").read_bytes()
    refused = invoke("init", "--dir", str(tmp_path))
    assert refused.exit_code == 1 and "refusing to overwrite" in refused.output
    assert (tmp_path / "gateway.key").read_bytes() == key_before
    assert invoke("init", "--dir", str(tmp_path), "--force").exit_code == 0
    assert (tmp_path / "gateway.key").read_bytes() != key_before


def test_init_rejects_bad_values_before_writing(tmp_path):
    out = invoke("init", "--dir", str(tmp_path), "--site-kind", "farm")
    assert out.exit_code == 1 and "site.kind" in out.output
    assert list(tmp_path.iterdir()) == []


def test_check_config_prints_every_problem(tmp_path, key_path):
    data = config_data("http://127.0.0.1:1", [{"id": "a", "driver": "nope"}, {"id": "b", "driver": "nope"}])
    path = write_config(tmp_path, data)
    out = invoke("check-config", "--config", str(path))
    assert out.exit_code == 1
    assert "instruments[0].driver: unknown driver 'nope'" in out.output
    assert "instruments[1].driver: unknown driver 'nope'" in out.output
    data["instruments"] = []
    write_config(tmp_path, data)
    ok = invoke("check-config", "--config", str(path))
    assert ok.exit_code == 0 and "ok (gateway gw-test-01, 0 enabled instrument(s))" in ok.output


def test_pubkey_prints_key_then_kid(tmp_path, key_path):
    path = write_config(tmp_path, config_data("http://127.0.0.1:1", []))
    out = invoke("pubkey", "--config", str(path))
    key = load_private_key(key_path)
    assert out.exit_code == 0 and out.output.split() == [public_key_b64url(key), kid_of(key)]


def test_run_logs_json_and_exits_0_on_sigterm(tmp_path, key_path, lims):
    path = write_config(tmp_path, config_data(lims.url, []))
    log_path = tmp_path / "stderr.log"
    code = "from kuaijian.cli_gateway import gateway_app; gateway_app()"
    with log_path.open("wb") as log:
        daemon = subprocess.Popen([sys.executable, "-c", code, "run", "--config", str(path)], cwd=ROOT,
                                  stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert wait_until(lambda: "gateway started" in log_path.read_text(), timeout=15), log_path.read_text()
        cmdline = Path(f"/proc/{daemon.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:4] == [b"-m", b"gateway", b"run"]  # same PID, now the lean daemon entry
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(10) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    events = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [e["msg"] for e in events][0] == "gateway started" and events[-1]["msg"] == "gateway stopped"
    assert events[0]["gateway"] == "gw-test-01" and events[0]["level"] == "info"


def test_run_with_a_bad_config_exits_1(tmp_path):
    mask_before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    out = invoke("run", "--config", str(tmp_path / "missing.toml"))
    assert out.exit_code == 1 and "config file not found" in out.output
    # no exec happened: the stop signals held for the daemon are released again (children would inherit them)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == mask_before


def test_json_formatter_keeps_extras_and_exceptions():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gw-test-json")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.error("failed %s", "once", exc_info=True, extra={"seq": 7, "where": Path("/x")})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert (entry["msg"], entry["level"], entry["seq"], entry["where"]) == ("failed once", "error", 7, "/x")
    assert "ValueError: boom" in entry["exc"] and entry["ts"][-6] in "+-"


def test_lean_daemon_entry_names_a_bad_config_and_exits_1(tmp_path):
    missing = tmp_path / "missing.toml"
    done = subprocess.run([sys.executable, "-m", "gateway", "run", "--config", str(missing)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and "config file not found" in done.stderr and str(missing) in done.stderr
