"""Rebuild a ``ChannelReading`` from its stored raw bytes, e.g. to re-check a verdict later."""

from __future__ import annotations

from .assembler import RunAssembler
from .decoder import EnzymeDecoder
from .errors import ReplayError
from protocols.need_data import NEED_DATA

from .events import ChannelReading, FrameError, RunError


def reading_from_raw(raw: bytes) -> ChannelReading:
    """Decode header + control + channel frame bytes; anything else raises ``ReplayError``."""
    decoder, assembler = EnzymeDecoder(), RunAssembler()
    decoder.receive_data(raw)
    decoder.receive_data(b"")
    readings: list[ChannelReading] = []
    while (event := decoder.next_event()) is not NEED_DATA:
        if isinstance(event, FrameError):
            raise ReplayError(f"{event.kind} at byte {event.offset}: {event.detail}")
        for out in assembler.add(event):
            if isinstance(out, RunError):
                raise ReplayError(f"{out.kind} at byte {out.offset}: {out.detail}")
            readings.append(out)
    if len(readings) != 1:
        raise ReplayError(f"expected exactly one channel reading, found {len(readings)}")
    return readings[0]
