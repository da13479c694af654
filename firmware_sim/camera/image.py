"""Small PNG pictures written with zlib alone: a test-room frame whose colour band moves with the shot count."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_image(shot: int, width: int = 160, height: int = 120) -> bytes:
    """An RGB PNG, different for every ``shot`` (a bar at a shot-dependent place)."""
    bar = (shot * 7) % width
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type 0 per row
        for x in range(width):
            if abs(x - bar) < 4:
                rows += bytes((230, 60, 40))
            else:
                rows += bytes((40 + y, 90 + (x // 4), 120 + (shot % 100)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + _chunk(
        b"IEND", b"")
