"""A commit slower than the instrument's reply timer: no late final ACK, the resend is stored once.

The simulated FS-Q8 talks to the driver through a tap that records every byte of both directions
in order, so the test can check that each host reply answers an ENQ or frame the instrument is
still waiting on. The outbox is the gateway's real one (SQLite, source-key de-duplication).
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from astm_support import expected_verdicts

from drivers.astm_quantitative import AstmQuantitativeDriver, load_limits
from drivers.base import DriverContext, ResultSink
from firmware_sim.astm import ITEMS, AstmInstrument, Timings, open_pty_link
from gateway.health import Health
from gateway.keys import generate_key_file, load_private_key
from gateway.outbox import Outbox
from gateway.sink import outbox_sink
from gateway.uplink_base import UplinkStats
from protocols.result import Site, TestResult

STX, LF, ENQ, EOT, ACK, NAK = 0x02, 0x0A, 0x05, 0x04, 0x06, 0x15
SENDER_TIMEOUT_S = 0.5
"""The driver's ``sender_timeout_s``: below the simulator's reply timer, as the docs advise."""
TIMINGS = Timings(reply_timeout_s=1.5, busy_wait_s=0.2, contention_wait_s=0.1, interval_s=0.3)
MESSAGES = 4
INSTRUMENT = "aq-01"
CONTEXT = DriverContext(site=Site(id="site-1", kind="market", name="渝中菜市场"), instrument_id=INSTRUMENT,
                        operator="tech-7", clock=lambda: datetime.now(timezone.utc))


class Tap:
    """Relays bytes between the instrument's socket and the host's pty master, recording both ways."""

    def __init__(self, master_fd: int) -> None:
        self.master_fd = master_fd
        self.instrument_end, self._inner = socket.socketpair()
        self.transcript: list[tuple[str, bytes]] = []
        """(``"instrument"`` or ``"host"``, bytes) in the order the tap passed them on."""
        self.condition = threading.Condition()
        self.stop = threading.Event()

    def run(self) -> None:
        """Relay until ``stop`` is set."""
        while not self.stop.is_set():
            readable, _, _ = select.select([self.master_fd, self._inner], [], [], 0.05)
            for source in readable:
                if source is self._inner:
                    self._pass("instrument", self._inner.recv(4096), self._to_host)
                else:
                    try:
                        data = os.read(self.master_fd, 4096)
                    except OSError:  # the host has the port closed: nothing to relay
                        self.stop.wait(0.05)
                        continue
                    self._pass("host", data, self._inner.sendall)

    def sent_by(self, side: str) -> bytes:
        """Every byte ``side`` sent so far."""
        with self.condition:
            return b"".join(data for who, data in self.transcript if who == side)

    def wait(self, predicate: Callable[[Tap], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` or ``timeout``."""
        with self.condition:
            return self.condition.wait_for(lambda: predicate(self), timeout)

    def close(self) -> None:
        self.instrument_end.close()
        self._inner.close()

    def _pass(self, side: str, data: bytes, forward: Callable[[bytes], object]) -> None:
        with self.condition:
            self.transcript.append((side, data))
            self.condition.notify_all()
        forward(data)

    def _to_host(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master_fd, view):]


def unawaited_replies(transcript: list[tuple[str, bytes]]) -> list[int]:
    """Indexes of host chunks holding an ACK/NAK that no pending instrument ENQ or frame asked for.

    The instrument awaits a reply after its ENQ and after each frame (STX … LF); its EOT (end of the
    transfer, or giving up after no reply) or the reply itself ends the wait.
    """
    awaiting = in_frame = False
    unawaited = []
    for index, (side, data) in enumerate(transcript):
        for byte in data:
            if side == "host":
                if byte in (ACK, NAK):
                    if not awaiting:
                        unawaited.append(index)
                    awaiting = False
            elif in_frame:
                in_frame, awaiting = (False, True) if byte == LF else (True, False)
            elif byte in (STX, ENQ, EOT):
                in_frame, awaiting = byte == STX, byte == ENQ
    return unawaited


class SlowFirstCommit:
    """Wraps a sink: the first result is committed only after the instrument gave up waiting for the
    final ACK (its EOT passed the tap) and more than ``SENDER_TIMEOUT_S`` after the driver called."""

    def __init__(self, sink: ResultSink, tap: Tap) -> None:
        self.sink, self.tap = sink, tap
        self.held = False
        self.known: list[str] = []
        """Source keys the sink answered "already stored"."""

    async def __call__(self, result: TestResult, source_key: str | None) -> bool:
        if not self.held:
            self.held = True
            loop = asyncio.get_running_loop()
            called = loop.time()
            gave_up = await asyncio.to_thread(self.tap.wait, lambda tap: bytes([EOT]) in tap.sent_by("instrument"),
                                              10)
            assert gave_up, "the instrument never gave up waiting for the final ACK"
            await asyncio.sleep(max(0.0, called + SENDER_TIMEOUT_S + 0.01 - loop.time()))  # the injected delay
        stored = await self.sink(result, source_key)
        if not stored:
            self.known.append(str(source_key))
        return stored


class _NoUplink:
    """The outbox sink wakes an uplink after each commit; this test uploads nothing."""

    stats = UplinkStats()

    def wake(self) -> None:
        """Nothing to wake."""


def _open_outbox(folder: Path) -> Outbox:
    generate_key_file(folder / "gateway.key")
    return Outbox(folder / "outbox.sqlite3", gateway_id="gw-test-01",
                  private_key=load_private_key(folder / "gateway.key"), clock=lambda: datetime.now().astimezone())


async def _run(outbox: Outbox) -> tuple[AstmInstrument, Tap, SlowFirstCommit]:
    """Driver on the pty, simulator behind the tap; until MESSAGES messages are delivered."""
    link = open_pty_link()
    tap = Tap(link.master_fd)
    health = Health("gw-test-01", "http", UplinkStats())
    health.add_instrument(INSTRUMENT, "astm_quantitative", enabled=True)
    uplink: Any = _NoUplink()
    sink = SlowFirstCommit(outbox_sink(outbox, uplink, health, 300.0, INSTRUMENT), tap)
    driver = AstmQuantitativeDriver({"port": link.path, "receive_timeout_s": 5.0,
                                     "sender_timeout_s": SENDER_TIMEOUT_S}, CONTEXT)
    task = asyncio.create_task(driver.run(sink))
    sim = AstmInstrument(tap.instrument_end.fileno(), items=list(ITEMS.values()), seed=4, timings=TIMINGS,
                         messages=MESSAGES)
    threads = [threading.Thread(target=target, daemon=True) for target in (tap.run, sim.run)]
    try:
        await asyncio.wait_for(driver.port_open.wait(), 5)
        for thread in threads:
            thread.start()
        delivered = await asyncio.to_thread(sim.stats.wait, lambda s: len(s.delivered) >= MESSAGES, 30)
        assert delivered, f"only {len(sim.stats.delivered)} of {MESSAGES} messages delivered"
        # the transcript ends with the last transfer's EOT: nothing more is owed to the instrument
        await asyncio.to_thread(tap.wait, lambda t: t.sent_by("instrument").endswith(bytes([EOT])), 5)
    finally:
        sim.stop.set()
        tap.stop.set()
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=5)
        assert done, "the driver did not stop when cancelled"
        for thread in threads:
            await asyncio.to_thread(thread.join, 5)
        tap.close()
        link.close()
    return sim, tap, sink


def test_commit_past_the_reply_timer_sends_no_late_ack_and_the_resend_is_stored_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="drivers.astm_quantitative")
    outbox = _open_outbox(tmp_path)
    try:
        sim, tap, sink = asyncio.run(_run(outbox))
        rows = outbox.query("SELECT source_key, envelope FROM envelopes ORDER BY seq")
    finally:
        outbox.close()
    withheld = [r.getMessage() for r in caplog.records if "final ACK withheld" in r.getMessage()]
    first = sim.stats.delivered[0]
    first_keys = set(expected_verdicts([first], load_limits(None)))
    # every host reply answered an ENQ or frame the instrument still waited on: no late final ACK
    assert unawaited_replies(tap.transcript) == [], tap.transcript
    # the instrument gave up on the first transfer because the driver withheld that ACK
    assert sim.stats.failed_transfers >= 1 and len(withheld) == sim.stats.failed_transfers, withheld
    assert sim.stats.naks == 0
    # it sent the first message again; the outbox knew every result of it and stored none twice
    assert set(sink.known) >= first_keys and len(sink.known) == len(ITEMS) * sim.stats.failed_transfers
    expected = expected_verdicts(sim.stats.delivered, load_limits(None))
    assert len(expected) == MESSAGES * len(ITEMS)
    # every result exactly once, nothing else (the outbox keeps keys per instrument)
    assert sorted(key for key, _ in rows) == sorted(f"{INSTRUMENT}/{key}" for key in expected)
    # the messages after it flowed, each delivered once
    assert len({m.sample_code for m in sim.stats.delivered}) == MESSAGES
