"""The simulated gold strip reader: register image, result queue, ready flag, ack handshake.

Transport-free: the TCP and RTU servers call :class:`RegisterImage` through pymodbus's
datastore interface; everything here runs on the event loop thread.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusBaseDeviceContext

from ..clock import china_local_now
from .encoder import encode, encode_block
from .profile_data import SimProfile

log = logging.getLogger("firmware_sim.gold")

_TABLES = {3: "holding", 6: "holding", 16: "holding", 4: "input"}


class RegisterImage(ModbusBaseDeviceContext):
    """Holding and input registers (65536 each), addressed exactly as on the wire (no +1)."""

    def __init__(self, on_write: Callable[[int, list[int]], None]) -> None:
        self.tables = {"holding": [0] * 0x10000, "input": [0] * 0x10000}
        self._on_write = on_write

    def reset(self) -> None:
        for table in self.tables.values():
            table[:] = [0] * 0x10000

    def getValues(self, func_code: int, address: int, count: int = 1) -> list[int] | ExcCodes:  # noqa: N802
        table = _TABLES.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if address + count > 0x10000:
            return ExcCodes.ILLEGAL_ADDRESS
        return self.tables[table][address : address + count]

    def setValues(self, func_code: int, address: int, values: list[int]) -> None | ExcCodes:  # noqa: N802
        if _TABLES.get(func_code) != "holding":
            return ExcCodes.ILLEGAL_FUNCTION
        if address + len(values) > 0x10000:
            return ExcCodes.ILLEGAL_ADDRESS
        self.tables["holding"][address : address + len(values)] = [int(v) for v in values]
        self._on_write(address, list(values))
        return None

    def write(self, table: str, address: int, words: list[int]) -> None:
        """Instrument-side write (no ack handling)."""
        self.tables[table][address : address + len(words)] = words


class GoldInstrument:
    """Queues readings, presents one at a time via the ready flag, advances on a matching ack."""

    def __init__(
        self,
        profile: SimProfile,
        *,
        serial: str = "GR100A2405001",
        firmware: str = "1.4.2",
        seed: int = 0,
        clock: Callable[[], datetime] = china_local_now,
        clock_skew: timedelta = timedelta(0),
        duplicate_rate: float = 0.0,
        first_sequence: int = 1,
    ) -> None:
        self.profile = profile
        self.image = RegisterImage(self._on_write)
        self._rng = random.Random(seed)
        self._clock = clock
        self.clock_skew = clock_skew
        self.duplicate_rate = duplicate_rate
        self._queue: deque[tuple[int, list[int]]] = deque()
        self._next_sequence = first_sequence
        self._sequence_span = 1 << (16 * profile.result.fields[profile.sequence_field].words)
        """The counter wraps to 0 after its field's largest value (65535 for a uint16), as readers do."""
        self.presented: int | None = None
        self.produced: dict[int, dict[str, int | float | str]] = {}
        """Fields of the latest reading made under each sequence (a reset or wrap counter reuses them)."""
        self.acked: list[int] = []
        self.ignored_acks: list[int] = []
        """Sequences whose ack the ``duplicate`` fault ignored (presented again)."""
        self.listeners: list[Callable[[], None]] = []
        """Called after every ack (tests wait on conditions through this)."""
        identity = {"vendor": profile.vendor, "model": profile.model, "serial": serial, "firmware": firmware}
        known = {k: v for k, v in identity.items() if k in profile.identity.fields}
        self.image.write(profile.identity.table, profile.identity.start, encode_block(profile.identity, known))

    def add_result(self, values: dict[str, int | float | str] | None = None) -> int:
        """Queue one reading (random unless ``values`` by field name); returns its sequence."""
        sequence = self._next_sequence % self._sequence_span
        self._next_sequence = sequence + 1
        fields = dict(values) if values is not None else self.random_values()
        fields[self.profile.sequence_field] = sequence
        self.produced[sequence] = fields
        self._queue.append((sequence, encode_block(self.profile.result, fields)))
        self._present_next()
        return sequence

    def power_cycle(self) -> None:
        """Restart the result counter at 1, as a reader does after a power cut, memory clear or firmware
        update; readings not yet acknowledged stay queued with their numbers."""
        log.warning("power cycle: result counter back to 1")
        self._next_sequence = 1

    def random_values(self) -> dict[str, int | float | str]:
        """A plausible reading: mostly negative, some positive, rarely a weak C line (invalid)."""
        p, rng, roles = self.profile, self._rng, self.profile.roles
        code = rng.choice(sorted(p.analyte_codes))
        cutoff = p.cutoffs.get(p.analyte_codes[code]) or rng.choice([0.50, 0.55, 0.60])
        draw = rng.random()
        c = rng.uniform(0.0, 0.8 * p.c_min) if draw < 0.03 else rng.uniform(400.0, 900.0)
        ratio = rng.uniform(0.15, 0.9 * cutoff) if draw < 0.2 else rng.uniform(1.1 * cutoff, 1.6)
        values: dict[str, int | float | str] = {
            roles["analyte_code"]: code, roles["t"]: round(c * ratio, 1), roles["c"]: round(c, 1),
            roles["ratio"]: round(ratio, 4),
        }
        if roles.get("channel"):
            values[roles["channel"]] = rng.randint(1, 8)
        if roles.get("cutoff"):
            values[roles["cutoff"]] = cutoff
        if roles.get("kit_lot"):
            values[roles["kit_lot"]] = f"KL{rng.randint(2401, 2412)}{rng.choice('ABC')}{rng.randint(1, 99):02d}"
        if roles.get("sample_code"):
            values[roles["sample_code"]] = f"S{rng.randint(0, 999999):06d}"
        now = (self._clock() + self.clock_skew).replace(microsecond=0)
        parts = (now.year, now.month, now.day, now.hour, now.minute, now.second)
        values.update(zip(roles["tested_at"], parts, strict=True))
        return values

    @property
    def pending(self) -> int:
        """Readings queued or presented and not yet acknowledged."""
        return len(self._queue)

    def _set_ready(self, on: bool) -> None:
        p = self.profile
        table = self.image.tables[p.ready_table]
        table[p.ready_address] = (table[p.ready_address] | p.ready_mask) if on else (
            table[p.ready_address] & ~p.ready_mask & 0xFFFF
        )

    def _present_next(self) -> None:
        if self.presented is not None or not self._queue:
            return
        sequence, registers = self._queue[0]
        self.image.write(self.profile.result.table, self.profile.result.start, registers)
        self.presented = sequence
        self._set_ready(True)

    def _ack_matches(self, address: int, values: list[int]) -> bool:
        p = self.profile
        if p.ack_kind == "write_value":
            return address == p.ack_address and values[:1] == [p.ack_value]
        layout = p.result.fields[p.sequence_field]
        expected = encode(layout, self.presented or 0)
        return address == p.ack_address and values[: len(expected)] == expected

    def _on_write(self, address: int, values: list[int]) -> None:
        if self.presented is None or not self._ack_matches(address, values):
            log.info("write at %d %s: not an ack of the presented result %s", address, values, self.presented)
            return
        if self.duplicate_rate and self._rng.random() < self.duplicate_rate:
            log.warning("fault duplicate: ignoring ack of %d, presenting it again", self.presented)
            self.ignored_acks.append(self.presented)
            return
        log.info("result %d acknowledged", self.presented)
        self.acked.append(self.presented)
        self._queue.popleft()
        self.presented = None
        self._set_ready(False)
        self._present_next()
        for listener in self.listeners:
            listener()
