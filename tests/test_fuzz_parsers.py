"""Arbitrary input never crashes a parser: only its documented errors come out.

Each property runs a few hundred examples in the default suite; ``make
test-slow`` (marker ``slow``) runs every one with 100,000 examples.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols import envelope as env
from protocols.astm import AstmLinkReceiver, MessageComplete, RecordError, frame_records, parse_message
from protocols.bundle import verify_bundle
from protocols.enzyme import EnzymeDecoder, FrameError
from protocols.errors import EnvelopeError
from protocols.line_profile import LineDecoder, LineError, interpret
from protocols.line_profile import load_builtin as load_line_profile
from protocols.modbus_profile import RegisterDataError, decode_block, load_builtin
from protocols.modbus_profile import interpret as interpret_block
from protocols.need_data import NEED_DATA

SLOW_EXAMPLES = 100_000
PROFILES = {name: load_builtin(name) for name in ("gr100", "huaxin-cg8")}
LINE_PROFILE = load_line_profile("ny10-line")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
astm_records = st.lists(st.sampled_from([b"H|\\^&", b"R|1|^^^NO2|5", b"L|1|N"])
                        | st.binary(max_size=300).map(lambda text: bytes(0x20 + b % 0x5F for b in text))
                        | st.integers(60, 400).map(lambda size: b"C|1|I|" + b"x" * size), max_size=8)
astm_transfers = st.lists(astm_records.map(lambda records: b"\x05" + b"".join(frame_records(records)))
                          | st.binary(max_size=20), max_size=4).map(b"".join)
"""ENQ + well-framed printable records (some over the caps below), mixed with junk."""


def enzyme_stream(chunks: list[bytes]) -> None:
    decoder = EnzymeDecoder()
    for chunk in chunks:
        decoder.receive_data(chunk)
        while (event := decoder.next_event()) is not NEED_DATA:
            assert event.offset >= 0
    decoder.receive_data(b"")
    while (event := decoder.next_event()) is not NEED_DATA:
        assert isinstance(event, FrameError) or event.raw


def astm_stream(data: bytes, **caps: int) -> None:
    receiver = AstmLinkReceiver(**caps)
    receiver.receive_data(data)
    while (event := receiver.next_event()) is not NEED_DATA:
        assert receiver.pending_bytes <= receiver.max_message_bytes
        if isinstance(event, MessageComplete):
            try:
                parse_message(event.text)
            except RecordError:
                pass
            receiver.confirm_message()
    receiver.data_to_send()
    if receiver.waiting_for is not None:
        receiver.timeout()


def line_stream(chunks: list[bytes]) -> None:
    decoder = LineDecoder(LINE_PROFILE)
    for chunk in chunks:
        decoder.receive_data(chunk)
        while (event := decoder.next_event()) is not NEED_DATA:
            if not isinstance(event, LineError):
                assert interpret(LINE_PROFILE, event).verdict in ("negative", "positive", "invalid")


def modbus_block(name: str, registers: list[int]) -> None:
    profile = PROFILES[name]
    try:
        reading = interpret_block(profile, decode_block(profile, registers))
    except RegisterDataError:
        return
    assert reading.verdict in ("negative", "positive", "invalid")


def envelope_document(document: object) -> None:
    try:
        env.check_shape(document)
    except EnvelopeError as exc:
        assert exc.code == "schema"


def bundle_files(manifest: bytes, keys: bytes, envelopes: bytes) -> None:
    report = verify_bundle(manifest, keys, envelopes)
    assert not report.ok or envelopes.strip() == b""


PROPERTIES = {
    "enzyme": (enzyme_stream, st.lists(st.binary(min_size=1, max_size=120), max_size=8)),
    "astm": (astm_stream, st.binary(max_size=600)),
    "astm-capped": (lambda data: astm_stream(data, max_message_bytes=300, max_records=4), astm_transfers),
    "line-ny10": (line_stream, st.lists(st.binary(min_size=1, max_size=120)
                                        | st.just(b"NY10,SN2026777,2026-11-23 09:15:04,CH1,S0042,62.5,50,POS*01\r\n"),
                                        max_size=8)),
    "modbus-gr100": (lambda regs: modbus_block("gr100", regs),
                     st.lists(st.integers(0, 0xFFFF), min_size=0, max_size=80)),
    "modbus-cg8": (lambda regs: modbus_block("huaxin-cg8", regs),
                   st.lists(st.integers(0, 0xFFFF), min_size=0, max_size=80)),
    "envelope": (envelope_document, st.dictionaries(
        st.sampled_from(sorted(env.MEMBERS) + ["x"]), json_values, max_size=8)),
    "bundle": (lambda files: bundle_files(*files), st.tuples(
        st.binary(max_size=80) | json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=80) | json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200))),
}


def run_property(name: str, examples: int) -> None:
    check, strategy = PROPERTIES[name]

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def prop(value):
        check(value)

    prop()


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_parser_survives_arbitrary_input(name):
    run_property(name, 300)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_parser_survives_arbitrary_input_slow(name):
    run_property(name, SLOW_EXAMPLES)
