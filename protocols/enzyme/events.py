"""Events of the EI-412 decoder and run assembler (frozen dataclasses, one module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

FrameErrorKind = Literal["bad_checksum", "truncated", "garbage", "bad_field", "too_long"]
RunErrorKind = Literal[
    "no_header", "no_control", "channel_out_of_range", "duplicate_channel", "run_incomplete", "end_mismatch"
]
InstrumentVerdict = Literal["POS", "NEG", "---"]




@dataclass(frozen=True)
class RunStarted:
    """``$H`` header frame: who measured, when (instrument local time, no zone), how many channels."""

    model: str
    serial: str
    firmware: str
    run: int
    measured_at: datetime
    operator: str | None
    channels: int
    offset: int
    raw: bytes


@dataclass(frozen=True)
class ControlMeasured:
    """``$C`` control frame: ΔA₀ of the enzyme control at 412 nm over the read window."""

    delta_a: Decimal
    read_window_s: int
    offset: int
    raw: bytes


@dataclass(frozen=True)
class ChannelMeasured:
    """``$R`` channel frame: ΔAₜ of one sample plus the instrument's own inhibition % and verdict."""

    channel: int
    control_delta_a: Decimal
    sample_delta_a: Decimal
    inhibition: Decimal | None
    verdict: InstrumentVerdict
    sample_code: str | None
    offset: int
    raw: bytes


@dataclass(frozen=True)
class RunEnded:
    """``$E`` end-of-run frame: run number, channel frames sent, and whether this was an automatic re-send."""

    run: int
    channels_sent: int
    resend: bool
    offset: int
    raw: bytes


@dataclass(frozen=True)
class FrameError:
    """Bytes that are not a valid frame; ``offset`` is the absolute stream position of ``data``."""

    kind: FrameErrorKind
    offset: int
    detail: str
    data: bytes


FrameEvent = RunStarted | ControlMeasured | ChannelMeasured | RunEnded | FrameError


@dataclass(frozen=True)
class ChannelReading:
    """One channel's complete reading; ``raw`` is header + control + channel frame as received."""

    header: RunStarted
    control: ControlMeasured
    measurement: ChannelMeasured

    @property
    def raw(self) -> bytes:
        """The exact instrument bytes this reading came from, enough to recompute the verdict."""
        return self.header.raw + self.control.raw + self.measurement.raw

    @property
    def source_key(self) -> str:
        """Identity at the source, ``serial:run:channel``: a re-sent run maps to the same keys."""
        return f"{self.header.serial}:{self.header.run}:{self.measurement.channel}"


@dataclass(frozen=True)
class RunError:
    """Good frames in an impossible order (e.g. a channel frame whose header was lost)."""

    kind: RunErrorKind
    offset: int
    detail: str
    data: bytes


AssemblerEvent = ChannelReading | RunError
