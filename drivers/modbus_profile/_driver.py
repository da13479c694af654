"""``modbus_profile`` driver: poll the ready flag, read the block, commit, then ack. Reconnects on faults."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from protocols.modbus_profile import (
    Profile,
    ProfileError,
    decode_block,
    decode_identity,
    decode_value,
    encode_value,
    interpret,
    resolve_profile,
)
from protocols.result import Transport

from ..base import Driver, DriverConfigError, DriverContext, ResultSink, serial_path
from ..link_watch import LinkWatch
from ._link import LinkError, ModbusLink
from ._options import parse_options
from ._result import InstrumentIdentity, build_result

log = logging.getLogger("drivers.modbus_profile")


@functools.cache
def _builtin_profile(name: str) -> Profile:
    return resolve_profile(name)


def load_profile_once(name_or_path: str) -> Profile:
    """The profile an instrument names; a built-in one is parsed once per process and shared.

    100 GR-100s then cost one parse (about 3 ms) and one ``Profile`` (about 25 kB) instead of 100;
    ``Profile`` is frozen. A profile *file* is read again each time, so an edit is seen at the next
    driver start.
    """
    if "/" not in name_or_path and not name_or_path.endswith(".toml"):
        return _builtin_profile(name_or_path)
    return resolve_profile(name_or_path)


class ModbusProfileDriver(Driver):
    """Any Modbus RTU/TCP instrument a profile describes (GR-100, Huaxin CG-8, ...)."""

    name = "modbus_profile"

    def __init__(self, options: dict[str, Any], context: DriverContext) -> None:
        super().__init__(options, context)
        self.config = parse_options(options)
        try:
            self.profile = load_profile_once(self.config.profile)
        except ProfileError as exc:
            raise DriverConfigError(f"modbus_profile option 'profile': {exc}") from exc
        self.label = (f"{context.instrument_id} ({self.profile.profile.model} on {self.config.link}, "
                      f"unit {self.config.unit})")
        self._transport: Transport = "modbus-tcp" if self.config.transport == "tcp" else "modbus-rtu"
        self._last_committed: tuple[str, tuple[int, ...]] | None = None
        """Source key and registers of the last committed reading: a reset counter reuses keys."""
        self._identity = _IdentityCheck(self.profile, context.instrument_id, self.label, self.config.identity_check_s)

    @property
    def serial_device(self) -> str | None:
        """The RTU serial port (``None`` over TCP or for a pyserial URL)."""
        return serial_path(self.config.port) if self.config.transport == "rtu" else None

    async def run(self, sink: ResultSink) -> None:
        """Connect, read identity, poll and deliver results; on a link fault reconnect with backoff.

        An outage is logged once when it starts and once when it ends, however many attempts it takes.
        """
        watch = LinkWatch(log, self.label, lambda: self.link_listener, {"instrument_id": self.context.instrument_id},
                          level=logging.ERROR)
        backoff = self.config.backoff()
        while True:
            link = ModbusLink(self.config, self.label, log_retries=watch.up is not False)
            try:
                await link.open()
                identity = await self._identity.read(link)
                backoff.reset()
                watch.connected(f"connected: {identity.vendor} {identity.model} serial {identity.serial} "
                                f"firmware {identity.firmware}")
                await self._poll(link, sink)
            except LinkError as exc:
                watch.lost(str(exc), retry_max_s=backoff.max_s)
            finally:
                link.close()
            await backoff.wait()

    async def _poll(self, link: ModbusLink, sink: ResultSink) -> None:
        ready = self.profile.handshake.ready
        while True:
            (flag,) = await link.read(ready.table, ready.address, 1)
            if flag & ready.mask and await self._take_result(link, sink):
                continue  # the next queued result may already be up
            await asyncio.sleep(self.config.poll_interval_s)

    async def _take_result(self, link: ModbusLink, sink: ResultSink) -> bool:
        """Read, commit and ack the presented result; False when the sink failed (it stays unacked).

        The instrument's identity is read again first when another device may answer now (see
        ``_IdentityCheck``), so a swapped reader's results carry its own serial.
        """
        identity = await self._identity.current(link)
        block = self.profile.result
        registers = await link.read(block.table, block.start, block.count)
        reading = interpret(self.profile, decode_block(self.profile, registers))
        identity = await self._identity.after_sequence(link, reading.sequence)
        key = f"{identity.serial}:{reading.sequence}"
        if (key, tuple(registers)) == self._last_committed:
            log.info("%s: result %s presented again; already committed, acknowledging again", self.label, key)
        else:
            try:
                result = build_result(profile=self.profile, reading=reading, registers=registers,
                                      identity=identity, transport=self._transport,
                                      local_tz=self.config.tzinfo, context=self.context)
                stored = await sink(result, key)
            except Exception:  # not acked: the instrument keeps the result until a later try succeeds
                log.exception("%s: could not build or commit result %s (registers %s); it stays on the "
                              "instrument", self.label, key, registers)
                return False
            self._last_committed = (key, tuple(registers))
            log.info("%s: result %s %s (%s, %s)", self.label, key, "committed" if stored else "was already stored",
                     result.test.item, result.verdict)
        await self._ack(link, reading.sequence)
        return True

    async def _ack(self, link: ModbusLink, sequence: int) -> None:
        ack = self.profile.handshake.ack
        spec = self.profile.result.fields[self.profile.handshake.sequence]
        if ack.kind == "write_sequence":
            await link.write(ack.address, encode_value(spec, sequence))
            return
        # A constant ack clears whatever is presented: check it is still the result we committed.
        presented = decode_value(spec, await link.read(self.profile.result.table, spec.address, spec.words))
        if presented != sequence:
            log.warning("%s: presented sequence is %s, not the committed %s; not acknowledging",
                        self.label, presented, sequence)
            return
        assert ack.value is not None
        await link.write(ack.address, [ack.value])


class _IdentityCheck:
    """The identity the driver keys results with, and when to read it again.

    Another reader can take the unit's place on an RTU line (or behind a TCP gateway) without the
    link dropping. The identity block is read again before a result when a request went
    unanswered since the last read (a device swap is silent for a while), when it is older than
    ``identity_check_s``, and after a result whose sequence went backwards.
    """

    def __init__(self, profile: Profile, fallback_serial: str, label: str, check_s: float) -> None:
        self.profile, self.fallback_serial, self.label, self.check_s = profile, fallback_serial, label, check_s
        self.identity: InstrumentIdentity | None = None
        self._read_at = 0.0
        self._silences = 0
        self._last_sequence: int | None = None

    async def read(self, link: ModbusLink) -> InstrumentIdentity:
        """Read the identity block now; log when the serial changed."""
        block = self.profile.identity
        fields = decode_identity(self.profile, await link.read(block.table, block.start, block.count))
        identity = InstrumentIdentity(vendor=str(fields.get("vendor", "")), model=str(fields["model"]),
                                      serial=str(fields["serial"]) or self.fallback_serial,
                                      firmware=str(fields["firmware"]))
        if self.identity is not None and identity.serial != self.identity.serial:
            log.warning("%s: another instrument answers now: serial %s (was %s), %s %s firmware %s", self.label,
                        identity.serial, self.identity.serial, identity.vendor, identity.model, identity.firmware)
            self._last_sequence = None
        self.identity, self._read_at, self._silences = identity, asyncio.get_running_loop().time(), link.silences
        return identity

    async def current(self, link: ModbusLink) -> InstrumentIdentity:
        """The identity, read again if a request went unanswered or it is older than ``check_s``."""
        age = asyncio.get_running_loop().time() - self._read_at
        if self.identity is None or link.silences != self._silences or age >= self.check_s:
            return await self.read(link)
        return self.identity

    async def after_sequence(self, link: ModbusLink, sequence: int) -> InstrumentIdentity:
        """The identity for a result with ``sequence``: read again when the sequence went backwards."""
        backwards = self._last_sequence is not None and sequence < self._last_sequence
        identity = await self.read(link) if backwards or self.identity is None else self.identity
        self._last_sequence = sequence
        return identity
