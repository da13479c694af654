"""The simulated FS-Q8 seen from a host we script by hand: busy, contention, CLI over a real pty."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from astm_support import drain

from firmware_sim.astm import ITEMS, AstmInstrument, Timings, open_pty_link
from firmware_sim.astm.cli import build_parser
from protocols.astm import AstmLinkReceiver, MessageComplete, parse_message

ACK, NAK, ENQ = b"\x06", b"\x15", b"\x05"
ROOT = Path(__file__).resolve().parents[2]


def _read_byte(fd: int, timeout: float) -> bytes:
    readable, _, _ = select.select([fd], [], [], timeout)
    assert readable, "the instrument sent nothing in time"
    return os.read(fd, 1)


@pytest.fixture
def instrument():
    link = open_pty_link()
    host = os.open(link.path, os.O_RDWR | os.O_NOCTTY)
    timings = Timings(reply_timeout_s=2.0, busy_wait_s=0.3, contention_wait_s=0.2, interval_s=0.05)
    sim = AstmInstrument(link.master_fd, items=[ITEMS["NO2"]], seed=1, timings=timings, messages=1)
    thread = threading.Thread(target=sim.run, daemon=True)
    thread.start()
    yield sim, host
    sim.stop.set()
    thread.join(5)
    os.close(host)
    link.close()


@pytest.mark.parametrize(("reply", "wait_s", "counter"), [(NAK, 0.3, "enq_sent"), (ENQ, 0.2, "contentions")])
def test_busy_and_contention_make_the_instrument_wait_then_send_enq_again(instrument, reply, wait_s, counter):
    sim, host = instrument
    assert _read_byte(host, 5) == ENQ
    sent_reply = time.monotonic()
    os.write(host, reply)
    assert _read_byte(host, 5) == ENQ
    assert time.monotonic() - sent_reply >= wait_s * 0.9
    assert getattr(sim.stats, counter) >= 1
    os.write(host, ACK)
    receiver = AstmLinkReceiver()
    receiver.receive_data(ENQ)
    drain(receiver)
    receiver.data_to_send()
    messages: list[MessageComplete] = []
    while not messages:
        receiver.receive_data(_read_byte(host, 5))
        messages += [e for e in drain(receiver) if isinstance(e, MessageComplete)]
        os.write(host, receiver.data_to_send())
    [entry] = parse_message(messages[0].text).entries()
    assert entry.result.test_code == "NO2"
    assert sim.stats.wait(lambda s: len(s.delivered) == 1, 5)


def test_cli_rejects_unknown_items_and_faults(capsys):
    parser = build_parser()
    for argv in (["--items", "NO2,PB"], ["--oversize-bytes", "0"], ["--faults", "bad_checksum,meteor"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
    err = capsys.readouterr().err
    assert "not a positive integer: '0'" in err and "meteor" in err
    assert parser.parse_args(["--faults", "oversize", "--oversize-bytes", "5000"]).oversize_bytes == 5000


def test_cli_prints_ready_serves_a_message_and_stops_on_sigterm(tmp_path):
    link = tmp_path / "ttyQ8"
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "astm", "--link", str(link), "--messages", "1", "--interval", "0.05",
         "--reply-timeout", "2", "--seed", "4", "--items", "NO2,SO2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY" and link.resolve() == Path(ready[1]).resolve()
        host = os.open(link, os.O_RDWR | os.O_NOCTTY)
        receiver = AstmLinkReceiver()
        messages: list[MessageComplete] = []
        while not messages:
            receiver.receive_data(_read_byte(host, 5))
            messages += [e for e in drain(receiver) if isinstance(e, MessageComplete)]
            os.write(host, receiver.data_to_send())
        codes = [e.result.test_code for e in parse_message(messages[0].text).entries()]
        assert codes == ["NO2", "SO2"]
        os.close(host)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not link.exists()
    finally:
        proc.kill()
        proc.wait()
