"""Values → register words, as an instrument writes them (from docs/profiles.md, field encoding)."""

from __future__ import annotations

import struct

from .profile_data import Block, Layout

_FORMATS = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f"}


def _to_word(pair: bytes, byte_order: str) -> int:
    return int.from_bytes(pair, "big" if byte_order == "big" else "little")


def encode(layout: Layout, value: int | float | str) -> list[int]:
    """The ``layout.words`` registers holding ``value``."""
    if layout.type == "string":
        data = str(value).encode("ascii")[: 2 * layout.words].ljust(2 * layout.words, b"\x00")
        return [_to_word(data[i : i + 2], layout.byte_order) for i in range(0, len(data), 2)]
    raw = (float(value) - layout.offset) / layout.scale
    packed = struct.pack(_FORMATS[layout.type], raw if layout.type == "float32" else round(raw))
    words = [_to_word(packed[i : i + 2], layout.byte_order) for i in range(0, len(packed), 2)]
    return words if layout.word_order == "big" else words[::-1]


def encode_block(block: Block, values: dict[str, int | float | str]) -> list[int]:
    """The block's registers with every named value in place; unnamed registers stay 0."""
    registers = [0] * block.count
    for name, value in values.items():
        layout = block.fields[name]
        at = layout.address - block.start
        registers[at : at + layout.words] = encode(layout, value)
    return registers
