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


def bounds_problem(document: Any, root: str, unbounded_text: frozenset[str] = frozenset()) -> str | None:
    """What in ``document`` (named ``root`` in paths) exceeds a bound, or ``None`` when all are kept."""
    stack: list[tuple[Any, str, int]] = [(document, root, 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            return f"{path}: nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            if len(value) > MAX_MEMBERS:
                return f"{path}: {len(value)} members, at most {MAX_MEMBERS} allowed"
            for key, member in value.items():
                if len(key) > MAX_KEY_CHARS:
                    return f"{path}: member name of {len(key)} characters, at most {MAX_KEY_CHARS} allowed"
                stack.append((member, f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            if len(value) > MAX_ITEMS:
                return f"{path}: {len(value)} items, at most {MAX_ITEMS} allowed"
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS and path not in unbounded_text:
            return f"{path}: {len(value)} characters, at most {MAX_TEXT_CHARS} allowed"
    return None
