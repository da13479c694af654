"""E1394 field mechanics: delimiters from the H record, splitting, escapes, timestamps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import RecordError

_TIME_FORMATS = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}


@dataclass(frozen=True)
class Delimiters:
    """The four delimiters an H record declares (defaults ``|\\^&``)."""

    field: str = "|"
    repeat: str = "\\"
    component: str = "^"
    escape: str = "&"

    @classmethod
    def from_header(cls, record: str) -> Delimiters:
        """Read them from the first five characters of an H record (``H|\\^&``)."""
        if len(record) < 5 or record[0] != "H":
            raise RecordError(1, "H.2 delimiters", f"header must start with H and 4 delimiters, got {record[:5]!r}")
        chars = record[1:5]
        if len(set(chars)) != 4 or any(c.isalnum() or c in "\r\n" for c in chars):
            raise RecordError(1, "H.2 delimiters", f"need 4 distinct non-alphanumeric delimiters, got {chars!r}")
        return cls(*chars)


@dataclass(frozen=True)
class FieldReader:
    """Access to the fields of one record; ``number`` is its 1-based place in the message."""

    fields: tuple[str, ...]
    delimiters: Delimiters
    number: int

    @classmethod
    def split(cls, record: str, delimiters: Delimiters, number: int) -> FieldReader:
        """Split ``record`` on the field delimiter."""
        return cls(tuple(record.split(delimiters.field)), delimiters, number)

    @property
    def kind(self) -> str:
        """The record type letter (field 1)."""
        return self.fields[0]

    def raw(self, index: int) -> str:
        """Field ``index`` (E1394 numbering: the type letter is field 1) undecoded, '' if absent."""
        return self.fields[index - 1] if index <= len(self.fields) else ""

    def text(self, index: int, name: str) -> str:
        """Field ``index`` with escapes decoded (components and repeats kept as one string)."""
        return self._unescape(self.raw(index), index, name)

    def components(self, index: int, name: str) -> tuple[str, ...]:
        """The components of the first repeat of field ``index``, each unescaped."""
        return self.repeats(index, name)[0]

    def repeats(self, index: int, name: str) -> tuple[tuple[str, ...], ...]:
        """Every repeat of field ``index`` as a tuple of unescaped components."""
        d = self.delimiters
        return tuple(
            tuple(self._unescape(part, index, name) for part in repeat.split(d.component))
            for repeat in self.raw(index).split(d.repeat)
        )

    def time(self, index: int, name: str) -> datetime | None:
        """Field ``index`` as a naive YYYYMMDD[HHMM[SS]] time, None when empty."""
        value = self.text(index, name)
        if not value:
            return None
        fmt = _TIME_FORMATS.get(len(value))
        try:
            if fmt is None:
                raise ValueError
            return datetime.strptime(value, fmt)
        except ValueError:
            raise self.error(index, name, f"not a YYYYMMDDHHMMSS time: {value!r}") from None

    def error(self, index: int, name: str, reason: str) -> RecordError:
        """A RecordError naming this record and field ``<type>.<index> <name>``."""
        return RecordError(self.number, f"{self.kind}.{index} {name}", reason)

    def _unescape(self, value: str, index: int, name: str) -> str:
        d = self.delimiters
        if d.escape not in value:
            return value
        table = {"F": d.field, "S": d.component, "R": d.repeat, "E": d.escape}
        esc = re.escape(d.escape)
        pattern = re.compile(f"{esc}([^{esc}]*){esc}")

        def replace(match: re.Match[str]) -> str:
            code = match.group(1)
            if code in table:
                return table[code]
            if code[:1] == "X" and len(code) > 1 and len(code) % 2 == 1:
                try:
                    return bytes.fromhex(code[1:]).decode("latin-1")
                except ValueError:
                    pass
            return match.group(0)  # unknown escape (e.g. &.br&): kept verbatim

        decoded = pattern.sub(replace, value)
        if pattern.sub("", value).count(d.escape):
            raise self.error(index, name, f"unterminated escape sequence in {value!r}")
        return decoded
