"""Re-decode a result's ``raw`` bytes with the instrument's protocol and compare with what it states.

A result whose raw bytes do not decode (``raw_undecodable``) or decode to other values or another
verdict (``raw_mismatch:<member>``) was not produced from those bytes by our driver: typed in,
edited, or its raw copied from another reading. Pure; the LIMS runs it on every stored result.
Drivers whose profile is not shipped with protocols/ (a site's own profile file) cannot be checked
here and yield no flag.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from collections.abc import Callable
from decimal import Decimal
from importlib import resources

from protocols import astm, enzyme, line_profile, modbus_profile
from protocols.astm._frame import GoodFrame, scan_frame
from protocols.enzyme import replay as enzyme_replay
from protocols.result import TestResult

from .flags import RAW_MISMATCH, RAW_UNDECODABLE

Stated = dict[str, object]
"""member name -> value the raw bytes give, compared with the result's own."""


class Undecodable(Exception):
    """The raw bytes do not decode; the message says where and why."""


def _enzyme_channel(raw: bytes) -> tuple[int, Decimal, Decimal]:
    """(channel, ΔA₀, ΔAₜ) of a lone ``$R`` frame or of a whole run (header, control, channel frames).

    The bytes are decoded once; only a run goes through the run assembler."""
    events = enzyme_replay.raw_events(raw)
    if len(events) == 1 and isinstance(events[0], enzyme.ChannelMeasured):
        return events[0].channel, events[0].control_delta_a, events[0].sample_delta_a
    try:
        reading = enzyme_replay.reading_from_events(events)
    except enzyme.ReplayError as exc:
        raise Undecodable(str(exc)) from exc
    return reading.measurement.channel, reading.control.delta_a, reading.measurement.sample_delta_a


def _enzyme(result: TestResult, raw: bytes) -> Stated:
    channel, control, sample = _enzyme_channel(raw)
    inhibition = enzyme.inhibition_percent(control, sample)
    decoded: Stated = {"channel": channel, "control_delta_a": float(control), "sample_delta_a": float(sample),
                       "value": None if inhibition is None else float(inhibition)}
    cutoff = result.measurement.cutoff
    if inhibition is not None and cutoff is not None and result.verdict != "invalid":
        decoded["verdict"] = "positive" if inhibition >= Decimal(str(cutoff)) else "negative"
    return decoded


def _modbus(result: TestResult, raw: bytes) -> Stated:
    profile = _modbus_profile(str(_extra(result, "profile")))
    try:
        reading = modbus_profile.interpret(profile, modbus_profile.decode_block(
            profile, modbus_profile.registers_from_bytes(raw)))
    except (modbus_profile.RegisterDataError, KeyError, ValueError, IndexError) as exc:
        raise Undecodable(f"register block: {exc}") from exc
    return {"channel": reading.channel, "t_intensity": _finite(reading.t), "c_intensity": _finite(reading.c),
            "value": reading.ratio, "analyte_code": reading.analyte_code, "verdict": reading.verdict}


def _line(result: TestResult, raw: bytes) -> Stated:
    profile = _line_profile(str(_extra(result, "profile")))
    decoder = line_profile.LineDecoder(profile)
    decoder.receive_data(raw)
    event = decoder.next_event()
    if not isinstance(event, line_profile.LineReading):
        raise Undecodable(f"not a {profile.profile.name} line: {event}")
    line = line_profile.interpret(profile, event)
    return {"channel": line.channel, "value": line.value, "verdict": line.verdict}


def _astm(result: TestResult, raw: bytes) -> Stated:
    text, rest = bytearray(), raw
    while rest:
        frame = scan_frame(rest)
        if not isinstance(frame, GoodFrame):
            raise Undecodable(f"bad E1381 frame at byte {len(raw) - len(rest)}: {frame}")
        text += frame.text
        rest = rest[len(frame.raw):]
    try:
        message = astm.parse_message(bytes(text))
    except astm.RecordError as exc:
        raise Undecodable(f"E1394 records: {exc}") from exc
    entries = [e for e in message.entries() if e.result.test_code == result.test.analyte]
    if not entries:
        raise Undecodable(f"no R record for item {result.test.analyte!r}")
    evaluation = astm.evaluate(entries[0].result, _astm_limits().get(entries[0].result.test_code))
    return {"value": evaluation.value, "verdict": evaluation.verdict}


_modbus_profile = functools.cache(modbus_profile.load_builtin)
_line_profile = functools.cache(line_profile.load_builtin)
_builtin = {"modbus_profile": functools.cache(lambda: frozenset(modbus_profile.builtin_names())),
            "serial_line_profile": functools.cache(lambda: frozenset(line_profile.builtin_names()))}
"""Shipped profiles and tables are parsed once per process: re-decoding runs on every stored result."""


@functools.cache
def _astm_limits() -> dict[str, astm.ItemLimit]:
    package, name = astm.DEFAULT_LIMITS_RESOURCE
    return astm.parse_limits((resources.files(package) / name).read_text("utf-8"))


DECODERS: dict[str, Callable[[TestResult, bytes], Stated]] = {
    "enzyme_inhibition": _enzyme, "modbus_profile": _modbus, "serial_line_profile": _line,
    "astm_quantitative": _astm,
}


def _extra(result: TestResult, name: str) -> object:
    return result.measurement.extra.get(name)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _stated(result: TestResult, member: str) -> object:
    if member == "channel":
        return result.channel
    if member == "verdict":
        return result.verdict
    if member == "value":
        return result.measurement.value
    return _extra(result, member)


def _same(decoded: object, stated: object) -> bool:
    if isinstance(decoded, int | float) and isinstance(stated, int | float) and not isinstance(decoded, bool):
        return math.isclose(float(decoded), float(stated), rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(decoded, int) and isinstance(stated, str):
        return str(decoded) == stated
    return decoded == stated


def checkable(result: TestResult) -> bool:
    """True when protocols/ can decode this result's raw bytes (known driver, shipped profile)."""
    if result.instrument.driver not in DECODERS:
        return False
    names = _builtin.get(result.instrument.driver)
    return names is None or _extra(result, "profile") in names()


def redecode_flags(result: TestResult) -> list[str]:
    """``[]`` when ``raw`` decodes to what the result states (or cannot be checked), else the flags."""
    if not checkable(result):
        return []
    try:
        data = result.raw.data
        raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)  # padding is optional
        decoded = DECODERS[result.instrument.driver](result, raw)
    except (binascii.Error, Undecodable) as exc:
        return [f"{RAW_UNDECODABLE}:{str(exc)[:120]}"]
    return [f"{RAW_MISMATCH}:{member}" for member, value in decoded.items()
            if not _same(value, _stated(result, member))]
