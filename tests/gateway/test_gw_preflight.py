"""`gateway check-config` finds what `gateway run` would refuse; a busy status port is one log line, not a crash."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

from typer.testing import CliRunner

from kuaijian.cli_gateway import gateway_app
from gateway.config import load_config
from gateway.daemon import Gateway
from gateway.keys import load_private_key
from gateway.outbox import Outbox

from .conftest import async_wait_until, config_data, now, write_config

runner = CliRunner()


def check(path: Path):
    return runner.invoke(gateway_app, ["check-config", "--config", str(path)])


def enzyme(port: str) -> dict:
    return {"id": "ei-01", "driver": "enzyme_inhibition", "options": {"port": port}}


def test_ready_gateway_passes(tmp_path, key_path, serial_device):
    path = write_config(tmp_path, config_data("http://127.0.0.1:1", [enzyme(serial_device)]))
    out = check(path)
    assert out.exit_code == 0, out.output
    assert "ok (gateway gw-test-01, 1 enabled instrument(s))" in out.output


def test_missing_key_file_is_named_with_its_line(tmp_path):
    path = write_config(tmp_path, config_data("http://127.0.0.1:1", []))
    out = check(path)
    assert out.exit_code == 1
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("key_file"))
    assert f"{path}:{line}: gateway.key_file: {tmp_path / 'gateway.key'}: key file not found" in out.output


def test_key_readable_by_others_is_refused_with_the_fix(tmp_path, key_path):
    key_path.chmod(0o644)
    out = check(write_config(tmp_path, config_data("http://127.0.0.1:1", [])))
    assert out.exit_code == 1
    assert "gateway.key_file" in out.output and "mode is 0644" in out.output and f"chmod 600 {key_path}" in out.output


def test_outbox_of_another_gateway_is_refused(tmp_path, key_path):
    Outbox(tmp_path / "outbox.sqlite3", gateway_id="gw-other", private_key=load_private_key(key_path),
           clock=now).close()
    out = check(write_config(tmp_path, config_data("http://127.0.0.1:1", [])))
    assert out.exit_code == 1
    assert "gateway.outbox" in out.output and "belongs to gateway 'gw-other', not 'gw-test-01'" in out.output


def test_missing_serial_device_is_a_warning_and_an_error_with_strict(tmp_path, key_path, serial_device):
    gone = str(tmp_path / "ttyUSB9")
    modbus_tcp = {"id": "gr-01", "driver": "modbus_profile",
                  "options": {"profile": "gr100", "transport": "tcp", "host": "127.0.0.1", "port": 502}}
    instruments = [enzyme(gone), {**enzyme(serial_device), "id": "ei-02"}, modbus_tcp,
                   {**enzyme(str(tmp_path / "off")), "id": "ei-03", "enabled": False}]
    path = write_config(tmp_path, config_data("http://127.0.0.1:1", instruments))
    out = check(path)
    assert out.exit_code == 0, out.output  # run starts; ei-01 stays offline until its adapter appears
    lines = out.output.strip().splitlines()
    assert len(lines) == 2, out.output  # TCP, present pty and disabled instruments are fine
    assert lines[0].startswith("warning: ") and "instruments[0].options.port" in lines[0]
    assert f"instrument 'ei-01': serial device {gone} does not exist" in lines[0]
    assert lines[1].endswith("ok (gateway gw-test-01, 3 enabled instrument(s), 1 warning(s))")
    strict = runner.invoke(gateway_app, ["check-config", "--strict", "--config", str(path)])
    assert strict.exit_code == 1 and "ok (" not in strict.output and "ttyUSB9 does not exist" in strict.output


def test_status_port_in_use_is_logged_once_and_the_gateway_runs(tmp_path, key_path, lims, counting_driver, caplog):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    data = config_data(lims.url, [{"id": "c-01", "driver": counting_driver,
                                   "options": {"count": 2, "ack_file": str(tmp_path / "c.ack")}}])
    data["gateway"]["status_port"] = port
    gateway = Gateway(load_config(write_config(tmp_path, data)))

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            assert await async_wait_until(lambda: len(lims.stored) == 2 or task.done())
            assert not task.done()
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    try:
        with caplog.at_level(logging.ERROR, logger="gateway.daemon"):
            asyncio.run(scenario())
    finally:
        busy.close()
    errors = [r for r in caplog.records if r.name == "gateway.daemon" and r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["status port cannot listen; running without /metrics and /status"]
    assert errors[0].port == port and "in use" in errors[0].error and errors[0].exc_info is None
    assert gateway.metrics_port is None
