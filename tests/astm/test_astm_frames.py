"""Checksum golden vectors (summed by hand) and frame building/scanning."""

import pytest

from protocols.astm import MAX_TEXT, build_frame, checksum
from protocols.astm._frame import BadFrame, GoodFrame, scan_frame

# (FN..ETX/ETB body, expected C1C2) — each sum worked out by hand in the comment.
GOLDEN = [
    # '1'49 'L'76 '|'124 '1'49 '|'124 'N'78 CR13 ETX3 = 516 = 2*256 + 4
    (b"1L|1|N\r\x03", b"04"),
    # '2'50 'A'65 ETB23 = 138 = 0x8A
    (b"2A\x17", b"8A"),
    # '0'48 ETX3 = 51 = 0x33
    (b"0\x03", b"33"),
    # '7'55 'z'122 'z'122 ETX3 = 302 = 256 + 46 = 0x2E
    (b"7zz\x03", b"2E"),
    # '3'51 + 'O'79 = 130, + 3*'~'126 = 508, + ETX 3 = 511 = 256 + 255 -> FF
    (b"3O~~~\x03", b"FF"),
    # from the instrument doc's worked example (sum 6100 = 23*256 + 212 = 0xD4)
    (b"4R|1|^^^NO2|26.40|mg/kg|0 to 20|H||F||T01|20240501092900|20240501093400|FS-Q8^Q8-230117\r\x03", b"D4"),
]


@pytest.mark.parametrize(("body", "expected"), GOLDEN)
def test_checksum_matches_hand_computed_vectors(body, expected):
    assert checksum(body) == expected


def test_checksum_digits_are_uppercase_hex():
    assert checksum(bytes([0xAB])) == b"AB"
    assert checksum(bytes([0x0A])) == b"0A"


def test_build_frame_layout():
    assert build_frame(1, b"L|1|N\r", final=True) == b"\x021L|1|N\r\x0304\r\n"
    assert build_frame(10, b"A", final=False) == b"\x022A\x178A\r\n"  # FN taken mod 8


def test_build_frame_refuses_more_than_240_bytes():
    build_frame(1, b"x" * MAX_TEXT, final=True)
    with pytest.raises(ValueError, match="241 bytes"):
        build_frame(1, b"x" * (MAX_TEXT + 1), final=True)


def test_scan_frame_needs_more_bytes_until_lf():
    frame = build_frame(1, b"L|1|N\r", final=True)
    for cut in range(1, len(frame)):
        assert scan_frame(frame[:cut]) is None
    scanned = scan_frame(frame + b"\x05")
    assert isinstance(scanned, GoodFrame)
    assert (scanned.fn, scanned.text, scanned.final, scanned.raw) == (1, b"L|1|N\r", True, frame)


def test_scan_frame_rejects_a_stx_inside_the_text_and_knows_the_frame_has_not_ended():
    scanned = scan_frame(b"\x021abc\x02")
    assert isinstance(scanned, BadFrame)
    assert (scanned.reason, scanned.offset, scanned.consumed, scanned.ended) == ("control_in_text", 5, 6, False)


@pytest.mark.parametrize("control", [0x00, 0x01, 0x07, 0x09, 0x10, 0x11, 0x16, 0x1B, 0x1F, 0x7F])
def test_scan_frame_rejects_control_bytes_in_the_text_at_that_byte(control):
    frame = build_frame(1, b"R|1|" + bytes([control]) + b"|x\r", final=True)
    for cut in range(7, len(frame) + 1):  # known bad as soon as the byte is in
        scanned = scan_frame(frame[:cut])
        assert isinstance(scanned, BadFrame)
        assert (scanned.reason, scanned.offset, scanned.data) == ("control_in_text", 6, frame[:7])


def test_scan_frame_accepts_utf8_and_printable_text():
    frame = build_frame(1, "P|1|S1|||腌萝卜 ~\r".encode(), final=True)
    assert isinstance(scan_frame(frame), GoodFrame)


def test_scan_frame_rejects_a_frame_ending_checksum_lf_at_the_lf():
    frame = H_WITHOUT_CR = build_frame(1, b"H|\\^&\r", final=True)[:-2] + b"\n"
    scanned = scan_frame(H_WITHOUT_CR)
    assert isinstance(scanned, BadFrame)
    assert (scanned.reason, scanned.offset, scanned.data, scanned.ended) == (
        "missing_crlf", len(frame) - 1, frame, True)


@pytest.mark.parametrize(("tail", "reason", "offset"), [
    (b"g", "bad_checksum", 0), (b"0\r", "bad_checksum", 1), (b"00\n", "missing_crlf", 2),
    (b"00\rX", "missing_crlf", 3),
])
def test_scan_frame_judges_the_checksum_and_cr_lf_bytes_as_they_arrive(tail, reason, offset):
    head = b"\x021L|1|N\r\x03"
    scanned = scan_frame(head + tail)
    assert isinstance(scanned, BadFrame)
    assert (scanned.reason, scanned.offset) == (reason, len(head) + offset)
