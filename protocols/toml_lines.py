"""Find the line of a TOML text that defines a dotted key, for error messages.

A line scanner, not a parser: it follows ``[table]`` headers, ``key =`` lines (dotted or quoted
keys) and ``name =`` members of inline tables, and returns the line that matches the longest
prefix of the key path. Good enough to point a person at the right line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

_HEADER = re.compile(r"^\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
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


def find_key_line(text: str, path: Sequence[str]) -> int | None:
    """1-based line defining the longest prefix of ``path`` (a key path), or None if no part matches."""
    path = [str(p) for p in path]
    header: tuple[str, ...] = ()
    best_depth, best_line = 0, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if header_match := _HEADER.match(line):
            header = _split_key(header_match.group(1))
            depth = _prefix_len(header, path)
        elif assign := _ASSIGN.match(line):
            key = header + _split_key(assign.group(1))
            depth = _prefix_len(key, path)
            if depth == len(key) and depth < len(path):
                depth += _inline_depth(line[assign.end():], path[depth:])
        else:
            continue
        if depth > best_depth:
            best_depth, best_line = depth, number
    return best_line


ProfileErrorFactory = Callable[[str, "int | None", str, str], Exception]
"""Builds a family's profile error from (source, line, key, problem)."""
M = TypeVar("M", bound=BaseModel)
_TOML_LINE = re.compile(r"at line (\d+)")
_UNION_TAGS = frozenset({"[key]", "str", "Constant"})


def read_source(source: str | Path, error: ProfileErrorFactory) -> tuple[str, str]:
    """(TOML text, name for messages) of a profile given as a file (``Path``) or as text (``str``)."""
    if isinstance(source, Path):
        try:
            return source.read_text("utf-8"), str(source)
        except (OSError, UnicodeDecodeError) as exc:
            raise error(str(source), None, "", f"cannot read profile file: {exc}") from exc
    return source, "<profile text>"


def validate_toml(text: str, source: str, model: type[M], error: ProfileErrorFactory) -> M:
    """Parse ``text`` as TOML into ``model``; the first problem raises ``error`` with its line and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        raise error(source, int(match.group(1)) if match else None, "", f"invalid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = [str(part) for part in first["loc"] if str(part) not in _UNION_TAGS]
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise error(source, find_key_line(text, path), ".".join(path), problem) from exc
