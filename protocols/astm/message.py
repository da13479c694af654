"""Parse a reassembled E1394 message (H ... L) into records, and group results with their sample."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._fields import Delimiters, FieldReader
from .errors import RecordError
from .records import READERS, Comment, Header, Order, OtherRecord, Record, Result, SampleRecord


@dataclass(frozen=True)
class ResultEntry:
    """One R record with the P and O before it and the C records after it."""

    sample: SampleRecord | None
    order: Order | None
    result: Result
    comments: tuple[Comment, ...]


@dataclass(frozen=True)
class Message:
    """A parsed message. ``errors`` lists records that were skipped (the others are kept)."""

    header: Header
    records: tuple[Record, ...]
    errors: tuple[RecordError, ...]

    def entries(self) -> list[ResultEntry]:
        """Each R record in order with its sample, order and the comments right after it."""
        entries: list[ResultEntry] = []
        sample: SampleRecord | None = None
        order: Order | None = None
        after_result = False
        for record in self.records:
            if isinstance(record, SampleRecord):
                sample, order, after_result = record, None, False
            elif isinstance(record, Order):
                order, after_result = record, False
            elif isinstance(record, Result):
                entries.append(ResultEntry(sample, order, record, ()))
                after_result = True
            elif isinstance(record, Comment) and after_result:
                entries[-1] = replace(entries[-1], comments=entries[-1].comments + (record,))
        return entries


def split_records(text: bytes | bytearray) -> list[bytes]:
    """The non-empty CR-terminated records of a message (stray LFs dropped)."""
    return [bytes(part.strip(b"\n")) for part in text.split(b"\r") if part.strip(b"\n")]


def parse_message(text: bytes, encoding: str = "utf-8") -> Message:
    """Parse records; a bad H record raises RecordError, any other bad record is skipped and listed."""
    raw_records = split_records(text)
    if not raw_records:
        raise RecordError(1, "H.1 record type", "empty message")
    first = _decode(raw_records[0], 1, encoding)
    delimiters = Delimiters.from_header(first)
    header = READERS["H"](FieldReader.split(first, delimiters, 1))
    assert isinstance(header, Header)
    records: list[Record] = [header]
    errors: list[RecordError] = []
    for number, raw in enumerate(raw_records[1:], start=2):
        try:
            records.append(parse_record(_decode(raw, number, encoding), delimiters, number))
        except RecordError as exc:
            errors.append(exc)
    return Message(header, tuple(records), tuple(errors))


def parse_record(record: str, delimiters: Delimiters, number: int) -> Record:
    """One record (without its CR) using the message's delimiters; ``number`` is 1-based."""
    fields = FieldReader.split(record, delimiters, number)
    if fields.kind == "H":
        raise RecordError(number, "H.1 record type", "a second H record inside one message")
    reader = READERS.get(fields.kind)
    if reader is None:
        if len(fields.kind) != 1 or not fields.kind.isalpha():
            raise RecordError(number, "1 record type", f"not a record type: {fields.kind[:10]!r}")
        return OtherRecord(fields.kind, fields.fields)
    return reader(fields)


def _decode(raw: bytes, number: int, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise RecordError(number, "text", f"not {encoding} at byte {exc.start}: {raw[exc.start:exc.start + 4]!r}") from None
