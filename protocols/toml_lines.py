"""Find the line of a TOML text that defines a key path, for error messages.

A line scanner, not a parser: it follows ``[table]`` and ``[[array.of.tables]]`` headers (counting
the elements, so ``instruments[1]`` is the second ``[[instruments]]``), ``key =`` lines (dotted or
quoted keys) and ``name =`` members of inline tables, and returns the line that matches the longest
prefix of the key path. Multi-line values are not followed (their first line is found). Good
enough to point a person at the right line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import msgspec

from ._validation import Invalid, convert

_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ASSIGN = re.compile(r"""^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _split_key(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _KEY_PART.findall(dotted))


def _inline_depth(rest: str, path: Sequence[str]) -> int:
    """How many of ``path`` appear in order as ``name =`` inside an inline table on one line."""
    depth, pos = 0, 0
    for name in path:
        match = re.compile(rf"""(?:^|[{{,\s])["']?{re.escape(name)}["']?\s*=""").search(rest, pos)
        if match is None:
            break
        depth, pos = depth + 1, match.end()
    return depth


def _prefix_len(key: Sequence[str], path: Sequence[str]) -> int:
    if len(key) > len(path) or tuple(path[: len(key)]) != tuple(key):
        return -1
    return len(key)


class _Headers:
    """Key path of the table a header opens, with array-of-tables element indexes filled in."""

    def __init__(self) -> None:
        self._last_index: dict[tuple[str, ...], int] = {}

    def table(self, name: tuple[str, ...]) -> tuple[str, ...]:
        """``[a.b]``: ``a``'s current element index follows ``a`` when ``a`` is an array of tables."""
        path: list[str] = []
        for depth, part in enumerate(name, 1):
            path.append(part)
            if (index := self._last_index.get(name[:depth])) is not None:
                path.append(str(index))
        return tuple(path)

    def array_element(self, name: tuple[str, ...]) -> tuple[str, ...]:
        """``[[a.b]]``: the next element of ``a.b``, e.g. ``("a", "b", "2")``."""
        index = self._last_index.get(name, -1) + 1
        self._last_index[name] = index
        return (*self.table(name[:-1]), name[-1], str(index))


def find_key_line(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line defining the longest prefix of ``path`` (keys, and list indexes), or None if none matches."""
    wanted = [str(part) for part in path]
    headers = _Headers()
    header: tuple[str, ...] = ()
    best_depth, best_line = 0, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if array_match := _ARRAY_HEADER.match(line):
            header = headers.array_element(_split_key(array_match.group(1)))
            depth = max(_prefix_len(header, wanted), _prefix_len(header[:-1], wanted))  # element, or the array
        elif table_match := _TABLE_HEADER.match(line):
            header = headers.table(_split_key(table_match.group(1)))
            depth = _prefix_len(header, wanted)
        elif assign := _ASSIGN.match(line):
            key = header + _split_key(assign.group(1))
            depth = _prefix_len(key, wanted)
            if depth == len(key) and depth < len(wanted):
                depth += _inline_depth(line[assign.end():], wanted[depth:])
        else:
            continue
        if depth > best_depth:
            best_depth, best_line = depth, number
    return best_line


class ProfileErrorFactory(Protocol):
    """Builds a family's profile error from (source, line, key, problem) and any further problems."""

    def __call__(self, source: str, line: int | None, key: str, problem: str,
                 others: Sequence[tuple[int | None, str, str]] = ..., /) -> Exception: ...

M = TypeVar("M", bound=msgspec.Struct)
_TOML_LINE = re.compile(r"at line (\d+)")
Prepare = Callable[[dict[str, Any]], dict[str, Any]]
"""A family's step between TOML and its model (e.g. TOML's text keys made numbers); raises ``Invalid``."""


def read_source(source: str | Path, error: ProfileErrorFactory) -> tuple[str, str]:
    """(TOML text, name for messages) of a profile given as a file (``Path``) or as text (``str``)."""
    if isinstance(source, Path):
        try:
            return source.read_text("utf-8"), str(source)
        except (OSError, UnicodeDecodeError) as exc:
            raise error(str(source), None, "", f"cannot read profile file: {exc}") from exc
    return source, "<profile text>"


ReferenceProblems = Callable[[M], Iterator[tuple[list[str], str]]]
"""Cross-checks of a validated profile: (key path, problem) for each, first one first."""


def validate_toml(text: str, source: str, model: type[M], error: ProfileErrorFactory,
                  references: ReferenceProblems[M] | None = None, prepare: Prepare | None = None) -> M:
    """Parse ``text`` as TOML into ``model`` (after ``prepare``), then run ``references`` over it; problems
    raise ``error`` naming every mistake of the file at once (line and key of each, in file order), each key once."""
    profile = _validated(text, source, model, error, prepare)
    if references is not None:
        _raise_all(error, source, [(find_key_line(text, path), ".".join(path), problem)
                                   for path, problem in references(profile)])
    return profile


def _raise_all(error: ProfileErrorFactory, source: str, problems: list[tuple[int | None, str, str]],
               cause: Exception | None = None) -> None:
    """Raise ``error`` for ``problems`` (sorted by line, the first message per key kept), if any."""
    kept: dict[str, tuple[int | None, str, str]] = {}
    for found in problems:
        kept.setdefault(found[1], found)
    ordered = sorted(kept.values(), key=lambda found: (found[0] is None, found[0] or 0))
    if ordered:
        (line, key, problem), *others = ordered
        raise error(source, line, key, problem, others) from cause


def _validated(text: str, source: str, model: type[M], error: ProfileErrorFactory, prepare: Prepare | None) -> M:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        raise error(source, int(match.group(1)) if match else None, "", f"invalid TOML: {exc}") from exc
    try:
        return convert(prepare(data) if prepare else data, model)
    except Invalid as exc:
        problems = [(find_key_line(text, found.loc), ".".join(str(part) for part in found.loc), found.why)
                    for found in exc.problems]
        _raise_all(error, source, problems, exc)
        raise  # not reached: Invalid holds at least one problem
