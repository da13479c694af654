"""Random but realistic FS-Q8 readings and the records of one message (seeded ``random.Random``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .encoder import component, escape, header_record, record

MODEL, FIRMWARE, OPERATOR = "FS-Q8", "2.1.0", "T01"
TIME_FORMAT = "%Y%m%d%H%M%S"


@dataclass(frozen=True)
class SimItem:
    """A test item the instrument runs: code, Chinese name, the limit it flags H against, unit."""

    code: str
    name: str
    limit: float
    unit: str = "mg/kg"


ITEMS: dict[str, SimItem] = {
    item.code: item
    for item in (
        SimItem("NO2", "亚硝酸盐", 20.0),
        SimItem("HCHO", "甲醛", 10.0),
        SimItem("SO2", "二氧化硫", 200.0),
        SimItem("BORAX", "硼砂", 0.0),
    )
}
SAMPLES = (
    ("腌萝卜", "腌渍蔬菜"), ("白菜", "蔬菜"), ("水发鱿鱼", "水产品"), ("干香菇", "干制蔬菜"),
    ("腐竹&豆制品", "豆制品"), ("咸菜|散装", "腌渍蔬菜"), ("粉丝^红薯", "淀粉制品"), ("肉丸", "肉制品"),
)
ERRORS = (("E07", "吸光度超出范围"), ("E12", "比色池未放置"), ("E21", "空白值异常"))


@dataclass(frozen=True)
class SimReading:
    """One item's result: value (None on an instrument error) and completion time (instrument clock)."""

    item: SimItem
    value: float | None
    completed_at: datetime
    error: tuple[str, str] | None = None

    @property
    def above_limit(self) -> bool:
        """What the instrument itself flags as H."""
        return self.value is not None and self.value > self.item.limit


@dataclass(frozen=True)
class SimMessage:
    """One sample's message: what was measured and the E1394 records that carry it."""

    control_id: str
    serial: str
    sample_code: str
    sample_name: str
    category: str
    stall: str
    channel: int
    readings: tuple[SimReading, ...]
    records: tuple[str, ...]


def _value(rng: random.Random, item: SimItem, positive_rate: float) -> float:
    if rng.random() < positive_rate:
        return round(rng.uniform(max(item.limit, 1.0) * 1.1, max(item.limit, 5.0) * 3), 2)
    if item.limit == 0:
        return 0.0
    return round(rng.uniform(0, item.limit * 0.6), 2)


def generate_message(rng: random.Random, number: int, items: list[SimItem], now: datetime, *,
                     serial: str = "Q8-230117", clock_skew: timedelta = timedelta(0),
                     positive_rate: float = 0.08, error_rate: float = 0.02) -> SimMessage:
    """Message ``number`` for a random sample tested for ``items`` at instrument time ``now + clock_skew``."""
    name, category = rng.choice(SAMPLES)
    clock = now + clock_skew
    readings = []
    for index, item in enumerate(items):
        done = clock - timedelta(seconds=30 * (len(items) - index))
        if rng.random() < error_rate:
            readings.append(SimReading(item, None, done, rng.choice(ERRORS)))
        else:
            readings.append(SimReading(item, _value(rng, item, positive_rate), done))
    code = f"S{clock:%Y%m%d}{number:04d}"
    stall = f"{rng.choice('ABC')}-{rng.randint(1, 40):02d}"
    channel = number % 8 + 1
    message = SimMessage(f"{number}", serial, code, name, category, stall, channel, tuple(readings), ())
    return replace(message, records=tuple(build_records(message, clock)))


def build_records(message: SimMessage, clock: datetime) -> list[str]:
    """H, P, O, then R (+ C on error) per reading, then L — as the document specifies."""
    started = min(r.completed_at for r in message.readings) - timedelta(minutes=3)
    tests = "\\".join(f"^^^{r.item.code}" for r in message.readings)
    out = [
        header_record(message.control_id, MODEL, message.serial, FIRMWARE, f"{clock:{TIME_FORMAT}}"),
        record("P", {2: "1", 3: escape(message.sample_code), 6: component(message.sample_name),
                     26: escape(message.stall)}),
        record("O", {2: "1", 3: escape(message.sample_code), 4: str(message.channel), 5: tests, 6: "R",
                     8: f"{started:{TIME_FORMAT}}", 12: "N", 16: component(message.category), 26: "F"}),
    ]
    for seq, reading in enumerate(message.readings, start=1):
        item = reading.item
        value = "" if reading.value is None else f"{reading.value:.2f}"
        flag = "" if reading.value is None else ("H" if reading.above_limit else "N")
        out.append(record("R", {
            2: str(seq), 3: f"^^^{item.code}", 4: value, 5: escape(item.unit), 6: f"0 to {item.limit:g}",
            7: flag, 9: "X" if reading.error else "F", 11: OPERATOR, 12: f"{started:{TIME_FORMAT}}",
            13: f"{reading.completed_at:{TIME_FORMAT}}", 14: component(MODEL, message.serial),
        }))
        if reading.error:
            out.append(record("C", {2: "1", 3: "I", 4: component(*reading.error), 5: "G"}))
    out.append(record("L", {2: "1", 3: "N"}))
    return out
