"""Typed E1394 records (H, P, O, R, C, Q, L) and how each is read from its fields.

Field numbers follow E1394 (the type letter is field 1). Our instrument profile maps the
patient record to the food sample (docs/instruments/multi-item-analyzer.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ._fields import Delimiters, FieldReader


@dataclass(frozen=True)
class Header:
    """H: delimiters, sender (model^serial^firmware), processing id, version, message time."""

    delimiters: Delimiters
    control_id: str
    sender: tuple[str, ...]
    receiver: str
    processing_id: str
    version: str
    timestamp: datetime | None


@dataclass(frozen=True)
class SampleRecord:
    """P (patient record, here the food sample): sample code P.3, name P.6, stall P.26."""

    sequence: int
    code: str
    name: str
    stall: str


@dataclass(frozen=True)
class Order:
    """O: specimen id O.3, channel O.4, test codes O.5, collected O.8, action O.12, category O.16."""

    sequence: int
    specimen_id: str
    channel: str
    tests: tuple[str, ...]
    collected_at: datetime | None
    action_code: str
    category: str


@dataclass(frozen=True)
class Result:
    """R: test code (4th component of R.3), value, units, range, flag, status, operator, times."""

    sequence: int
    test_code: str
    value: str
    units: str
    reference_range: str
    abnormal_flag: str
    status: str
    operator: str
    started_at: datetime | None
    completed_at: datetime | None
    completed_at_text: str
    instrument: str


@dataclass(frozen=True)
class Comment:
    """C: source C.3, text C.4 (components joined by spaces), type C.5."""

    sequence: int
    source: str
    text: str
    kind: str


@dataclass(frozen=True)
class Query:
    """Q: request information; kept as its raw fields (our instrument never sends it)."""

    sequence: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Terminator:
    """L: termination code L.3 (N normal, or E/Q/I/F... per E1394)."""

    sequence: int
    code: str


@dataclass(frozen=True)
class OtherRecord:
    """A record type we do not interpret (M, S, ...), kept raw."""

    kind: str
    fields: tuple[str, ...]


Record = Header | SampleRecord | Order | Result | Comment | Query | Terminator | OtherRecord


def _sequence(f: FieldReader) -> int:
    value = f.text(2, "sequence number")
    if not value:
        return 0
    if not value.isdigit():
        raise f.error(2, "sequence number", f"not a number: {value!r}")
    return int(value)


def read_header(f: FieldReader) -> Header:
    """H record; field 2 (the delimiter definition) is not unescaped."""
    return Header(
        delimiters=f.delimiters,
        control_id=f.text(3, "message control id"),
        sender=f.components(5, "sender id"),
        receiver=f.text(10, "receiver id"),
        processing_id=f.text(12, "processing id"),
        version=f.text(13, "version"),
        timestamp=f.time(14, "message time"),
    )


def read_sample(f: FieldReader) -> SampleRecord:
    """P record as our sample."""
    return SampleRecord(_sequence(f), f.text(3, "sample code"), f.components(6, "sample name")[0],
                        f.text(26, "location"))


def read_order(f: FieldReader) -> Order:
    """O record; test codes are the 4th component of each repeat of O.5."""
    tests = tuple(rep[3] for rep in f.repeats(5, "universal test id") if len(rep) > 3 and rep[3])
    return Order(_sequence(f), f.text(3, "specimen id"), f.text(4, "instrument specimen id"), tests,
                 f.time(8, "collection time"), f.text(12, "action code"), f.components(16, "specimen descriptor")[0])


def read_result(f: FieldReader) -> Result:
    """R record; its test code is required."""
    test_id = f.components(3, "universal test id")
    code = test_id[3] if len(test_id) > 3 else ""
    if not code:
        raise f.error(3, "universal test id", f"no test code in 4th component: {f.raw(3)!r}")
    return Result(
        sequence=_sequence(f),
        test_code=code,
        value=f.text(4, "data value"),
        units=f.text(5, "units"),
        reference_range=f.text(6, "reference range"),
        abnormal_flag=f.text(7, "abnormal flag"),
        status=f.text(9, "result status"),
        operator=f.text(11, "operator id"),
        started_at=f.time(12, "test started"),
        completed_at=f.time(13, "test completed"),
        completed_at_text=f.text(13, "test completed"),
        instrument=f.text(14, "instrument id"),
    )


def read_comment(f: FieldReader) -> Comment:
    """C record."""
    return Comment(_sequence(f), f.text(3, "source"), " ".join(p for p in f.components(4, "text") if p),
                   f.text(5, "type"))


def read_query(f: FieldReader) -> Query:
    """Q record (kept raw)."""
    return Query(_sequence(f), f.fields)


def read_terminator(f: FieldReader) -> Terminator:
    """L record."""
    return Terminator(_sequence(f), f.text(3, "termination code"))


READERS: dict[str, Callable[[FieldReader], Record]] = {"H": read_header, "P": read_sample, "O": read_order, "R": read_result,
           "C": read_comment, "Q": read_query, "L": read_terminator}
"""Record type letter -> reader; other letters become OtherRecord."""
