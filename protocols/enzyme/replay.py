"""Rebuild a ``ChannelReading`` from its stored raw bytes, e.g. to re-check a verdict later."""

from __future__ import annotations

from .assembler import RunAssembler
from .decoder import EnzymeDecoder
from .errors import ReplayError
from protocols.need_data import NEED_DATA

from .events import ChannelReading, FrameError, RunError


def raw_events(raw: bytes) -> list[object]:
    """Every decoder event of ``raw`` taken as a whole (end of data included)."""
    decoder = EnzymeDecoder()
    decoder.receive_data(raw)
    decoder.receive_data(b"")
    events: list[object] = []
    while (event := decoder.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def reading_from_events(events: list[object]) -> ChannelReading:
    """The one channel reading of decoded header + control + channel events; anything else raises ``ReplayError``."""
    assembler = RunAssembler()
    readings: list[ChannelReading] = []
    for event in events:
        if isinstance(event, FrameError):
            raise ReplayError(f"{event.kind} at byte {event.offset}: {event.detail}")
        for out in assembler.add(event):  # type: ignore[arg-type]
            if isinstance(out, RunError):
                raise ReplayError(f"{out.kind} at byte {out.offset}: {out.detail}")
            readings.append(out)
    if len(readings) != 1:
        raise ReplayError(f"expected exactly one channel reading, found {len(readings)}")
    return readings[0]


def reading_from_raw(raw: bytes) -> ChannelReading:
    """Decode header + control + channel frame bytes; anything else raises ``ReplayError``."""
    return reading_from_events(raw_events(raw))
