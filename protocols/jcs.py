"""RFC 8785 (JCS) serialization, byte-identical to the ``rfc8785`` library and faster on plain JSON.

One walk checks the value and rewrites what the C JSON encoder would print differently from JCS;
the C encoder (sorted keys, no spaces, UTF-8) then writes it. Anything the walk does not vouch for
goes to ``rfc8785.dumps`` whole, so the bytes, and every error, are that library's:

- floats: integer-valued floats below 1e16 in magnitude become ints (``100.0`` -> ``100``,
  ``-0.0`` -> ``0``); other finite floats of magnitude 1e-4 to 1e16 print as ``repr`` does, which is
  the ECMAScript form; floats Python prints with an exponent (below 1e-4, from 1e16), NaN and the
  infinities go to ``rfc8785`` (it formats the first and refuses the others);
- ints outside +-(2**53 - 1) go to ``rfc8785``, which refuses them (``IntegerDomainError``);
- member names: JCS sorts by UTF-16 code units, Python by code points; the two orders differ only
  for characters above U+FFFF, so an object with such a name goes to ``rfc8785``; a name that is
  not a ``str`` does too (refused there);
- strings: both escape ``"``, ``\\`` and U+0000-U+001F alike (``\\b \\t \\n \\f \\r``, else
  ``\\u00xx``) and leave the rest as is; a lone surrogate fails the UTF-8 encoding and goes to
  ``rfc8785``, which refuses it;
- types: only exact ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None`` (what
  ``json.loads`` gives); tuples, subclasses and other types go to ``rfc8785``;
- objects and arrays nested deeper than :data:`MAX_FAST_DEPTH` go to ``rfc8785``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest magnitude of an int JCS accepts (``rfc8785`` refuses larger ones)."""
MAX_FAST_DEPTH = 64
"""Nesting levels of objects and arrays the fast path takes; deeper values go to ``rfc8785``."""
_FIXED_FLOATS = (1e-4, 1e16)
"""Magnitudes [low, high) whose ``repr`` has no exponent: there it is the ECMAScript form."""
_STR = frozenset({str})
_AS_IS = frozenset({str, bool, type(None)})
"""Types the C encoder writes as JCS does."""
_Key = TypeVar("_Key", str, int)
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


class _Fallback(Exception):
    """The fast path does not vouch for this value: ``rfc8785`` serializes it."""


def dumps(value: Any) -> bytes:
    """JCS bytes of ``value``, as ``rfc8785.dumps`` gives them; raises what it raises.

    That is ``rfc8785.CanonicalizationError``, or ``UnicodeEncodeError`` for a lone surrogate in a
    member name (both ``ValueError``); ``RecursionError`` beyond the interpreter's recursion limit.
    """
    try:
        return _ENCODER.encode(_normal(value, 0)).encode("utf-8")
    except (_Fallback, UnicodeEncodeError, RecursionError):
        return rfc8785.dumps(value)


def _normal(value: Any, depth: int) -> Any:
    """``value``, or a copy whose C-encoder output is its JCS form; raises ``_Fallback`` where none is."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return _object(value, depth + 1)
    if kind is list:
        return _array(value, depth + 1)
    if kind is int:
        return _integer(value)
    if kind is float:
        return _float(value)
    raise _Fallback


def _integer(value: int) -> int:
    """``value`` if JCS accepts it."""
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise _Fallback


def _float(value: float) -> float | int:
    """The int or float whose ``repr`` is the ECMAScript form of ``value``."""
    magnitude = abs(value)
    if value.is_integer() and magnitude < _FIXED_FLOATS[1]:
        return int(value)
    if _FIXED_FLOATS[0] <= magnitude < _FIXED_FLOATS[1]:
        return value
    raise _Fallback  # an exponent, NaN or an infinity


def _object(members: dict[Any, Any], depth: int) -> dict[str, Any]:
    """``members`` (a copy if a value changes), if the names are strings that sort alike in UTF-16."""
    if depth > MAX_FAST_DEPTH or not _STR.issuperset(map(type, members)):
        raise _Fallback
    names = "".join(members)
    if not names.isascii() and max(names) > "\uffff":
        raise _Fallback
    changes = _changes(members.items(), depth)
    return {**members, **changes} if changes else members


def _array(items: list[Any], depth: int) -> list[Any]:
    """``items`` (a copy if an item changes)."""
    if depth > MAX_FAST_DEPTH:
        raise _Fallback
    changes = _changes(enumerate(items), depth)
    return [changes.get(index, item) for index, item in enumerate(items)] if changes else items


def _changes(pairs: Iterable[tuple[_Key, Any]], depth: int) -> dict[_Key, Any]:
    """The normal values of ``pairs`` that differ from the given ones, by key."""
    changes: dict[_Key, Any] = {}
    for key, item in pairs:
        if type(item) in _AS_IS:
            continue
        normal = _normal(item, depth)
        if normal is not item:
            changes[key] = normal
    return changes
