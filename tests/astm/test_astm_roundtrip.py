"""Property tests: the simulator's own encoder -> our receiver and parser; junk never raises."""

import random
from datetime import datetime, timedelta

from astm_support import drain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.astm import ITEMS, encode_message, generate_message
from firmware_sim.astm.encoder import component, escape, header_record, record
from protocols.astm import AstmLinkReceiver, MessageComplete, parse_message
from protocols.need_data import NEED_DATA

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=300)


def _receive(data: bytes, cuts: list[int]) -> list[MessageComplete]:
    receiver = AstmLinkReceiver()
    out: list[MessageComplete] = []
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in zip(points, points[1:]):
        receiver.receive_data(data[start:end])
        out += [e for e in drain(receiver) if isinstance(e, MessageComplete)]
    return out


@SETTINGS
@given(name=texts, stall=texts, comment=texts, value=st.floats(0, 1e4, allow_nan=False),
       cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_simulator_encoding_round_trips(name, stall, comment, value, cuts):
    records = [
        header_record("7", "FS-Q8", "Q8^X|1", "2.1.0", "20240501093600"),
        record("P", {2: "1", 3: escape("S&1"), 6: component(name), 26: escape(stall)}),
        record("O", {2: "1", 3: "S1", 4: "2", 5: "^^^NO2"}),
        record("R", {2: "1", 3: "^^^NO2", 4: f"{value:.2f}", 5: "mg/kg", 13: "20240501093400"}),
        record("C", {2: "1", 3: "I", 4: component("E07", comment), 5: "G"}),
        record("L", {2: "1", 3: "N"}),
    ]
    [message] = _receive(b"\x05" + encode_message(records) + b"\x04", cuts)
    parsed = parse_message(message.text)
    assert parsed.errors == ()
    assert parsed.header.sender == ("FS-Q8", "Q8^X|1", "2.1.0")
    [entry] = parsed.entries()
    assert (entry.sample.code, entry.sample.name, entry.sample.stall) == ("S&1", name, stall)
    assert float(entry.result.value) == round(value, 2)
    assert entry.comments[0].text == " ".join(p for p in ("E07", comment) if p)


@SETTINGS
@given(seed=st.integers(0, 2**32), count=st.integers(1, 4))
def test_generated_messages_round_trip(seed, count):
    rng = random.Random(seed)
    now = datetime(2024, 5, 1, 9, 0)
    sims = [generate_message(rng, n, list(ITEMS.values()), now + timedelta(minutes=n)) for n in range(1, count + 1)]
    data = b"".join(b"\x05" + encode_message(m.records) + b"\x04" for m in sims)
    messages = _receive(data, [rng.randrange(len(data)) for _ in range(5)])
    assert len(messages) == count
    for sim, message in zip(sims, messages):
        entries = parse_message(message.text).entries()
        assert [e.result.test_code for e in entries] == [r.item.code for r in sim.readings]
        assert [e.sample.name for e in entries] == [sim.sample_name] * len(entries)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), confirm=st.booleans())
def test_arbitrary_bytes_never_raise(data, confirm):
    receiver = AstmLinkReceiver()
    receiver.receive_data(data)
    while (event := receiver.next_event()) is not NEED_DATA:
        if isinstance(event, MessageComplete):
            try:
                parse_message(event.text)
            except Exception as exc:  # only our own documented error may come out
                assert type(exc).__name__ == "RecordError"
            if confirm:
                receiver.confirm_message()
    receiver.data_to_send()
    if receiver.waiting_for is not None:
        receiver.timeout()


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_arbitrary_framed_records_never_raise(records):
    from protocols.astm import frame_records

    receiver = AstmLinkReceiver()
    receiver.receive_data(b"\x05" + b"".join(frame_records([b"H|\\^&", *records, b"L"])))
    for event in drain(receiver):
        if isinstance(event, MessageComplete):
            try:
                parse_message(event.text)
            except Exception as exc:
                assert type(exc).__name__ == "RecordError"
