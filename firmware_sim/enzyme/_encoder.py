"""EI-412 frame encoder and the instrument's own arithmetic, written from the instrument document.

Independent of ``protocols``: round-trip tests against the gateway's decoder are therefore
two readings of one document, not one implementation checked against itself.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CONTROL_MINIMUM = Decimal("0.300")
"""The instrument prints ``---`` for every channel when ΔA₀ is below this (doc §6)."""
POSITIVE_CUTOFF = Decimal("50.0")


def xor_checksum(body: bytes) -> int:
    """XOR of all bytes between ``$`` and ``*``."""
    result = 0
    for byte in body:
        result ^= byte
    return result


def frame(kind: str, *fields: str) -> bytes:
    """``$`` + kind + ``,field``... + ``*HH`` + CRLF."""
    body = ",".join((kind, *fields)).encode("ascii")
    return b"$" + body + b"*" + f"{xor_checksum(body):02X}".encode("ascii") + b"\r\n"


def delta_a_field(value: Decimal) -> str:
    """ΔA as ``d.dddd``; the instrument clamps to 0.0000..9.9999."""
    clamped = min(max(value, Decimal(0)), Decimal("9.9999"))
    return f"{clamped.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):.4f}"


def instrument_inhibition(control: Decimal, sample: Decimal) -> Decimal | None:
    """The instrument's inhibition %: half-up to 0.1, clamped to -99.9..100.0; None if ΔA₀ invalid."""
    if control < CONTROL_MINIMUM:
        return None
    value = ((control - sample) / control * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return min(max(value, Decimal("-99.9")), Decimal("100.0"))


def instrument_verdict(inhibition: Decimal | None) -> str:
    """``POS`` at or above 50.0 %, ``NEG`` below, ``---`` for an invalid control."""
    if inhibition is None:
        return "---"
    return "POS" if inhibition >= POSITIVE_CUTOFF else "NEG"


def header_frame(
    model: str, serial: str, firmware: str, run: int, measured_at: datetime, operator: str, channels: int
) -> bytes:
    """``$H,model,serial,firmware,run,YYYY-MM-DD HH:MM:SS,operator,channels``."""
    when = measured_at.strftime("%Y-%m-%d %H:%M:%S")
    return frame("H", model, serial, firmware, str(run), when, operator, str(channels))


def control_frame(control: Decimal, read_window_s: int) -> bytes:
    """``$C,ΔA₀,read window seconds``."""
    return frame("C", delta_a_field(control), str(read_window_s))


def channel_frame(channel: int, control: Decimal, sample: Decimal, sample_code: str) -> bytes:
    """``$R,channel,ΔA₀,ΔAt,inhibition,verdict[,sample code]`` with the instrument's own verdict."""
    inhibition = instrument_inhibition(control, sample)
    fields = [str(channel), delta_a_field(control), delta_a_field(sample)]
    fields += ["---" if inhibition is None else f"{inhibition:.1f}", instrument_verdict(inhibition)]
    if sample_code:
        fields.append(sample_code)
    return frame("R", *fields)


def end_frame(run: int, channels_sent: int, resend: bool = False) -> bytes:
    """``$E,run,channels sent``, plus ``,R`` when the transmission is an automatic re-send."""
    fields = [str(run), str(channels_sent)] + (["R"] if resend else [])
    return frame("E", *fields)
