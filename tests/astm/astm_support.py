"""Helpers of the ASTM tests (imported by them, not a test module): messages and receiver drains."""

from __future__ import annotations

from firmware_sim.astm import SimMessage
from protocols.astm import AstmLinkReceiver, BytesDiscarded, ItemLimit, MessageComplete, frame_records
from protocols.need_data import NEED_DATA

HEADER = b"H|\\^&|1||FS-Q8^Q8-230117^2.1.0|||||LIS||P|LIS2-A2|20240501093600"
SAMPLE_RECORDS = [
    HEADER,
    "P|1|S001|||白菜||||||||||||||||||||A-07".encode(),
    b"O|1|S001|3|^^^NO2\\^^^HCHO|R||20240501092900||||N||||veg||||||||||F",
    b"R|1|^^^NO2|26.40|mg/kg|0 to 20|H||F||T01|20240501092900|20240501093400|FS-Q8^Q8-230117",
    b"R|2|^^^HCHO|1.25|mg/kg|0 to 10|N||F||T01|20240501092900|20240501093430|FS-Q8^Q8-230117",
    b"L|1|N",
]


def drain(receiver: AstmLinkReceiver, confirm: bool = True) -> list[object]:
    """All events now; confirms each MessageComplete (like a driver whose sink succeeded)."""
    events: list[object] = []
    while True:
        event = receiver.next_event()
        if event is NEED_DATA:
            return events
        _append(events, event)
        if isinstance(event, MessageComplete) and confirm:
            receiver.confirm_message()


def feed(data: bytes, chunks: list[int] | None = None) -> tuple[list[object], bytes, AstmLinkReceiver]:
    """Feed ``data`` cut at ``chunks`` offsets; return events, every byte sent back, the receiver."""
    receiver = AstmLinkReceiver()
    cuts = [0, *(chunks or []), len(data)]
    events: list[object] = []
    sent = b""
    for start, end in zip(cuts, cuts[1:]):
        receiver.receive_data(data[start:end])
        for event in drain(receiver):
            _append(events, event)
        sent += receiver.data_to_send()
    return events, sent, receiver


def transfer(records: list[bytes] = SAMPLE_RECORDS) -> bytes:
    """ENQ, the frames of ``records``, EOT."""
    return b"\x05" + b"".join(frame_records(records)) + b"\x04"


def expected_verdicts(messages: list[SimMessage], limits: dict[str, ItemLimit]) -> dict[str, str]:
    """source key -> verdict, computed from what the simulator measured and ``limits``."""
    out = {}
    for m in messages:
        for r in m.readings:
            key = f"{m.serial}:{m.sample_code}:{r.completed_at:%Y%m%d%H%M%S}:{r.item.code}"
            limit = limits[r.item.code].limit
            out[key] = "invalid" if r.value is None else ("positive" if r.value > limit else "negative")
    return out


def _append(events: list[object], event: object) -> None:
    """Append, merging adjacent noise runs (where the input was cut changes how noise is reported)."""
    if isinstance(event, BytesDiscarded) and events and isinstance(events[-1], BytesDiscarded):
        events[-1] = BytesDiscarded(events[-1].data + event.data)
    else:
        events.append(event)
