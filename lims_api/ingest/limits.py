"""Size and depth bounds of signed JSON (an envelope's ``result``, a heartbeat), checked before validation.

Extra members are allowed by the contract, so without bounds one signed line could hold a value
nested hundreds of levels deep (which later pages cannot serialise) or a name of a megabyte. The
walk is iterative (no recursion) and touches each value once.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 8
"""Nesting levels of objects and arrays, ``result`` itself being level 1."""
MAX_MEMBERS = 200
"""Members of one object."""
MAX_ITEMS = 1000
"""Items of one array."""
MAX_KEY_CHARS = 128
MAX_TEXT_CHARS = 4096
"""Characters of one string; a result's ``raw.data`` (the instrument bytes) is bounded only by the body limit."""
RESULT_UNBOUNDED_TEXT = frozenset({"result.raw.data"})


def result_bounds_problem(result: Any) -> str | None:
    """What in an envelope's ``result`` exceeds a bound (its path and the bound), or ``None``."""
    return bounds_problem(result, "result", RESULT_UNBOUNDED_TEXT)


Path = tuple[Any, str] | str
"""Where a value sits: the root's name, or (its parent's path, ``.key`` or ``[index]``); spelt out only
for a message."""


def _step(key: str | int) -> str:
    """A member's (``.name``) or an item's (``[index]``) step in a path."""
    return f".{key}" if isinstance(key, str) else f"[{key}]"


def _spelt(path: Path) -> str:
    parts: list[str] = []
    while isinstance(path, tuple):
        path, step = path
        parts.append(step)
    return path + "".join(reversed(parts))


_SCALARS = frozenset({int, float, bool, type(None)})


def _plainly_within(document: dict[str, Any] | list[Any]) -> bool:
    """Whether every bound is kept with no text over ``MAX_TEXT_CHARS`` at all (no paths built); ``False``
    sends the document to the walk that names the problem, or allows an unbounded text."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH or len(value) > (MAX_MEMBERS if type(value) is dict else MAX_ITEMS):
            return False
        if type(value) is dict:
            if value and max(map(len, value)) > MAX_KEY_CHARS:
                return False
            members: Any = value.values()
        else:
            members = value
        for member in members:
            kind = type(member)
            if kind is dict or kind is list:
                stack.append((member, depth + 1))
            elif kind is str:
                if len(member) > MAX_TEXT_CHARS:
                    return False
            elif kind not in _SCALARS:
                return False
    return True


def bounds_problem(document: Any, root: str, unbounded_text: frozenset[str] = frozenset()) -> str | None:
    """What in ``document`` (named ``root`` in paths) exceeds a bound, or ``None`` when all are kept."""
    if not isinstance(document, dict | list):
        return _text_problem(document, root, unbounded_text)
    if type(document) in (dict, list) and _plainly_within(document):
        return None
    stack: list[tuple[dict[str, Any] | list[Any], Path, int]] = [(document, root, 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{_spelt(path)}: nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            if len(value) > MAX_MEMBERS:
                return f"{_spelt(path)}: {len(value)} members, at most {MAX_MEMBERS} allowed"
            members: Any = value.items()
        else:
            if len(value) > MAX_ITEMS:
                return f"{_spelt(path)}: {len(value)} items, at most {MAX_ITEMS} allowed"
            members = enumerate(value)
        for key, member in members:
            if type(key) is str and len(key) > MAX_KEY_CHARS:
                return f"{_spelt(path)}: member name of {len(key)} characters, at most {MAX_KEY_CHARS} allowed"
            if isinstance(member, dict | list):
                stack.append((member, (path, _step(key)), depth + 1))
            elif isinstance(member, str) and len(member) > MAX_TEXT_CHARS:
                problem = _text_problem(member, _spelt((path, _step(key))), unbounded_text)
                if problem is not None:
                    return problem
    return None


def _text_problem(value: Any, path: str, unbounded_text: frozenset[str]) -> str | None:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS and path not in unbounded_text:
        return f"{path}: {len(value)} characters, at most {MAX_TEXT_CHARS} allowed"
    return None
