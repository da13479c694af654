"""Register words ⇄ values for one field spec, and whole-block decoding. Pure functions."""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence

from ._errors import RegisterDataError
from ._schema import FieldSpec, Profile, RegisterBlock

Value = int | float | str

_STRUCT = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f"}
SCALED_DECIMALS = 9
"""Scaled values are rounded to this many decimals to drop binary noise (0.1 × 3 → 0.3)."""


def shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 (0.41999998688697815 → 0.42), as numpy prints it."""
    packed = struct.pack(">f", value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if struct.pack(">f", candidate) == packed:
                return candidate
        except OverflowError:  # rounded up past the largest float32
            continue
    return value  # NaN or inf: left as they are


def _word_bytes(word: int, byte_order: str) -> bytes:
    return word.to_bytes(2, "big" if byte_order == "big" else "little")


def decode_value(spec: FieldSpec, words: Sequence[int]) -> Value:
    """The value of ``spec`` from exactly its ``words`` registers (each 0..65535)."""
    if len(words) != spec.words:
        raise RegisterDataError(f"field at {spec.address} needs {spec.words} registers, got {len(words)}")
    if any(not 0 <= w <= 0xFFFF for w in words):
        raise RegisterDataError(f"field at {spec.address}: register value out of 0..65535: {list(words)}")
    if spec.type == "string":
        data = b"".join(_word_bytes(w, spec.byte_order) for w in words)
        return data.split(b"\x00", 1)[0].decode("ascii", "backslashreplace").rstrip(" ")
    ordered = list(words) if spec.word_order == "big" else list(reversed(words))
    (raw,) = struct.unpack(_STRUCT[spec.type], b"".join(_word_bytes(w, spec.byte_order) for w in ordered))
    if spec.type == "float32":
        raw = shortest_float32(raw)
    if spec.scale == 1.0 and spec.offset == 0.0:
        return raw
    return round(raw * spec.scale + spec.offset, SCALED_DECIMALS)


def encode_value(spec: FieldSpec, value: Value) -> list[int]:
    """The registers that hold ``value`` under ``spec`` (inverse of :func:`decode_value`)."""
    if spec.type == "string":
        data = str(value).encode("ascii")
        if len(data) > 2 * spec.words:
            raise ValueError(f"string {value!r} longer than {2 * spec.words} bytes")
        data = data.ljust(2 * spec.words, b"\x00")
        return [int.from_bytes(data[i : i + 2], "big" if spec.byte_order == "big" else "little")
                for i in range(0, len(data), 2)]
    raw = (float(value) - spec.offset) / spec.scale
    packed = struct.pack(_STRUCT[spec.type], raw if spec.type == "float32" else round(raw))
    words = [int.from_bytes(packed[i : i + 2], "big" if spec.byte_order == "big" else "little")
             for i in range(0, len(packed), 2)]
    return words if spec.word_order == "big" else list(reversed(words))


def decode_fields(block: RegisterBlock, registers: Sequence[int]) -> dict[str, Value]:
    """Every field of ``block`` from the block's registers (``block.count`` of them, from ``start``)."""
    if len(registers) != block.count:
        raise RegisterDataError(
            f"{block.table} block at {block.start} has {block.count} registers; got {len(registers)}"
        )
    out: dict[str, Value] = {}
    for name, spec in block.fields.items():
        at = spec.address - block.start
        try:
            out[name] = decode_value(spec, registers[at : at + spec.words])
        except RegisterDataError as exc:
            raise RegisterDataError(f"field {name!r}: {exc}") from exc
    return out


def decode_block(profile: Profile, registers: list[int]) -> dict[str, Value]:
    """Decode the result block (``profile.result``) read from the instrument."""
    return decode_fields(profile.result, registers)


def decode_identity(profile: Profile, registers: list[int]) -> dict[str, Value]:
    """Decode the identity block (vendor, model, serial, firmware, ...)."""
    return decode_fields(profile.identity, registers)


def registers_to_bytes(registers: Sequence[int]) -> bytes:
    """Registers as on the wire: 2 bytes each, high byte first (the Modbus response data)."""
    return b"".join(w.to_bytes(2, "big") for w in registers)


def registers_from_bytes(data: bytes) -> list[int]:
    """Inverse of :func:`registers_to_bytes`."""
    if len(data) % 2:
        raise RegisterDataError(f"register bytes must come in pairs; got {len(data)} bytes")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def raw_data(registers: Sequence[int]) -> str:
    """``raw.data`` of a TestResult: base64 of :func:`registers_to_bytes`."""
    return base64.b64encode(registers_to_bytes(registers)).decode("ascii")
