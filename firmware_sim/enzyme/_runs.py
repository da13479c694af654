"""What the simulated EI-412 measures: random but realistic runs, and the truth tests compare to."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from . import _encoder as enc

FrameTag = str | int
"""``"H"``, ``"C"``, ``"E"`` or a channel number: which frame of a run."""


@dataclass(frozen=True)
class ChannelPlan:
    """One channel's sample: its ΔAt and the code typed on the keypad ("" when none)."""

    channel: int
    sample_delta_a: Decimal
    sample_code: str = ""


@dataclass(frozen=True)
class RunPlan:
    """Everything one run will send; writing the same plan twice is the instrument's SEND key."""

    run: int
    measured_at: datetime
    control_delta_a: Decimal
    channels: tuple[ChannelPlan, ...]
    operator: str = ""
    model: str = "EI-412"
    serial: str = "EI412A0157"
    firmware: str = "2.3.1"
    read_window_s: int = 180

    def frames(self, resend: Collection[int] | None = None) -> list[tuple[FrameTag, bytes]]:
        """The run's frames in sending order, each tagged with what it is.

        ``resend`` names the unacknowledged channels of an automatic re-send: only their
        channel frames are sent and the end frame carries the ``R`` marker (doc §10.2).
        """
        header = enc.header_frame(
            self.model, self.serial, self.firmware, self.run, self.measured_at, self.operator, len(self.channels)
        )
        out: list[tuple[FrameTag, bytes]] = [("H", header)]
        out.append(("C", enc.control_frame(self.control_delta_a, self.read_window_s)))
        sent = [ch for ch in self.channels if resend is None or ch.channel in resend]
        for ch in sent:
            encoded = enc.channel_frame(ch.channel, self.control_delta_a, ch.sample_delta_a, ch.sample_code)
            out.append((ch.channel, encoded))
        out.append(("E", enc.end_frame(self.run, len(sent), resend=resend is not None)))
        return out


@dataclass(frozen=True)
class ChannelTruth:
    """What the instrument encoded for one channel and whether its frames reached the wire intact."""

    serial: str
    model: str
    firmware: str
    run: int
    channel: int
    measured_at: datetime
    operator: str
    control_delta_a: Decimal
    sample_delta_a: Decimal
    inhibition: Decimal | None
    instrument_verdict: str
    expected_verdict: str
    sample_code: str | None
    frames: bytes = field(repr=False)
    """Header + control + channel frame exactly as encoded (before any fault)."""
    delivered: bool

    @property
    def source_key(self) -> str:
        """``serial:run:channel``, as the protocol document defines a reading's identity."""
        return f"{self.serial}:{self.run}:{self.channel}"

    def record(self) -> dict[str, object]:
        """This truth as one JSON-ready line of ``--truth``: identity, values, expected verdict."""
        return {
            "source_key": self.source_key, "serial": self.serial, "model": self.model, "firmware": self.firmware,
            "run": self.run, "channel": self.channel, "measured_at": self.measured_at.isoformat(),
            "operator": self.operator or None, "control_delta_a": str(self.control_delta_a),
            "sample_delta_a": str(self.sample_delta_a),
            "inhibition": None if self.inhibition is None else str(self.inhibition),
            "instrument_verdict": self.instrument_verdict, "expected_verdict": self.expected_verdict,
            "sample_code": self.sample_code, "delivered_first_time": self.delivered,
        }


_VERDICT = {"POS": "positive", "NEG": "negative", "---": "invalid"}


def truths(plan: RunPlan, destroyed: set[FrameTag]) -> list[ChannelTruth]:
    """One truth per channel; a channel is delivered when H, C and its own frame are intact."""
    frames = dict(plan.frames())
    out = []
    for ch in plan.channels:
        inhibition = enc.instrument_inhibition(plan.control_delta_a, ch.sample_delta_a)
        verdict = enc.instrument_verdict(inhibition)
        out.append(
            ChannelTruth(
                serial=plan.serial, model=plan.model, firmware=plan.firmware, run=plan.run,
                channel=ch.channel, measured_at=plan.measured_at, operator=plan.operator,
                control_delta_a=plan.control_delta_a, sample_delta_a=ch.sample_delta_a,
                inhibition=inhibition, instrument_verdict=verdict, expected_verdict=_VERDICT[verdict],
                sample_code=ch.sample_code or None,
                frames=frames["H"] + frames["C"] + frames[ch.channel],
                delivered=not destroyed & {"H", "C", ch.channel},
            )
        )
    return out


def _four_places(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")


def random_plan(
    rng: random.Random, run: int, channels: int, clock: Callable[[], datetime], **identity: str
) -> RunPlan:
    """~3 % inactive-enzyme controls; per channel ~80 % clear negative, ~5 % suspect, ~15 % positive."""
    if rng.random() < 0.03:
        control = _four_places(rng.uniform(0.05, 0.29))
    else:
        control = _four_places(rng.uniform(0.35, 0.60))
    plans = []
    for number in range(1, channels + 1):
        roll = rng.random()
        target = rng.uniform(-5, 38) if roll < 0.80 else rng.uniform(40, 49.5) if roll < 0.85 else rng.uniform(50.5, 95)
        sample = _four_places(max(float(control) * (1 - target / 100), 0.0))
        code = "".join(rng.choices("0123456789", k=rng.randint(4, 6))) if rng.random() < 0.3 else ""
        plans.append(ChannelPlan(number, sample, code))
    operator = f"T{rng.randint(1, 99):02d}" if rng.random() < 0.7 else ""
    measured_at = clock().replace(microsecond=0, tzinfo=None)
    return RunPlan(run, measured_at, control, tuple(plans), operator, **identity)
