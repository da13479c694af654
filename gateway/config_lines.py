"""Locate a key path in TOML text, so config errors can name a line.

Best effort, line based: it understands ``[table]``, ``[[array.of.tables]]``,
sub-tables of the last array element and ``key = value`` lines; multi-line
values are not parsed (their first line is found, that is enough for errors).
"""

from __future__ import annotations

import re

Loc = tuple[str | int, ...]

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


class KeyLines:
    """Map of key paths (as pydantic ``loc`` tuples) to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Loc, int] = {}
        self._array_index: dict[tuple[str, ...], int] = {}
        table: Loc = ()
        for number, line in enumerate(text.splitlines(), 1):
            if match := _ARRAY_HEADER.match(line):
                name = _dotted(match.group(1))
                index = self._array_index.get(name, -1) + 1
                self._array_index[name] = index
                table = (*self._with_indexes(name[:-1]), name[-1], index)
                self._lines.setdefault(table[:-1], number)
                self._lines.setdefault(table, number)
            elif match := _TABLE_HEADER.match(line):
                table = self._with_indexes(_dotted(match.group(1)))
                self._lines.setdefault(table, number)
            elif match := _KEY_LINE.match(line):
                self._lines.setdefault((*table, *_dotted(match.group(1))), number)

    def _with_indexes(self, name: tuple[str, ...]) -> Loc:
        """Insert the current element index after every array-of-tables prefix of ``name``."""
        loc: list[str | int] = []
        for depth, part in enumerate(name, 1):
            loc.append(part)
            if (index := self._array_index.get(name[:depth])) is not None:
                loc.append(index)
        return tuple(loc)

    def line_of(self, loc: Loc) -> int | None:
        """Line of ``loc``, else of its nearest enclosing key or table; None if none is written."""
        for end in range(len(loc), 0, -1):
            if (number := self._lines.get(tuple(loc[:end]))) is not None:
                return number
        return None


def format_loc(loc: Loc) -> str:
    """``("instruments", 1, "driver")`` -> ``instruments[1].driver``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"
