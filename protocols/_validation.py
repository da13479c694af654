"""msgspec validation with located, readable problems: data -> a Struct, or :class:`Invalid` naming each mistake.

``msgspec.convert`` stops at the first mistake and says where in its message (``... - at `$.a[0].b```).
:func:`convert` keeps that fast path; on failure it walks the data field by field to report every
mistake with its key path (``("instruments", 1, "driver")``) and a short reason. Custom field types
(:class:`~protocols.text.PublicLine`, :class:`DueDate`, ...) parse themselves with a ``parse_value``
classmethod that :func:`dec_hook` calls.
"""

from __future__ import annotations

import re
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import msgspec

from .calibration import parse_due_date

T = TypeVar("T")
Loc = tuple[str | int, ...]
"""A key path into the data: ``("instruments", 1, "driver")``."""
DecHook = Callable[[type, Any], Any]

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_FIELD_NAMED = re.compile(r"^Object (missing required|contains unknown) field `([^`]+)`$")
_WRONG_TYPE = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_CONSTRAINT = re.compile(r"^Expected `[^`]+` (?:of length )?(>=|<=|>|<) ?(\S+)$")
_REGEX = re.compile(r"^Expected `str` matching regex (.+)$")


@dataclass(frozen=True)
class Problem:
    """One mistake: where (``loc``), why (for people) and its ``kind``: missing, unknown, type, too_long or value."""

    loc: Loc
    why: str
    kind: str


class Invalid(ValueError):
    """The data does not fit the type; ``problems`` lists each mistake (at least one)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{format_loc(p.loc)}: {p.why}" if p.loc else p.why for p in problems))


class DueDate(date):
    """A calendar date given as a TOML/``date`` value or ``"YYYY-MM-DD"``; a datetime is refused."""

    @classmethod
    def parse_value(cls, value: object) -> DueDate:
        """The date ``value`` names; ValueError says why not."""
        due = parse_due_date(value)
        return cls(due.year, due.month, due.day)


def dec_hook(kind: type, value: Any) -> Any:
    """msgspec's hook for custom types: their ``parse_value`` classmethod builds them."""
    parse = getattr(kind, "parse_value", None)
    if parse is None:
        raise NotImplementedError(f"no parser for {kind.__name__}")
    return parse(value)


def enc_hook(value: Any) -> Any:
    """msgspec's hook for encoding the custom types: as the plain str/date they extend, paths as text."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if isinstance(value, PurePath):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def to_builtins(value: Any) -> Any:
    """``value`` (a Struct, or data holding Structs) as dicts, lists, str, int, float, bool, None and dates."""
    return msgspec.to_builtins(value, builtin_types=(date,), enc_hook=enc_hook)


_READY: set[Any] = set()
_FIRST_USE = threading.Lock()


def ready(kind: Any) -> None:
    """Build ``kind``'s msgspec type information once, under a lock: msgspec builds it on first use,
    and a thread that finds it half built crashes the process (segfault in ``convert``, msgspec 0.22.0;
    the LIMS decodes in its request threads)."""
    if kind not in _READY:
        with _FIRST_USE:
            msgspec.json.Decoder(kind, dec_hook=dec_hook)
            _READY.add(kind)


def convert(data: Any, kind: type[T], *, strict: bool = True, hook: DecHook = dec_hook) -> T:
    """``data`` as ``kind``; :class:`Invalid` names every mistake found."""
    ready(kind)
    try:
        return msgspec.convert(data, kind, strict=strict, dec_hook=hook)
    except msgspec.ValidationError as exc:
        problems = list(_diagnose(data, kind, (), strict, hook)) or [problem_of(exc, data, kind)]
        raise Invalid(problems) from None


def from_json(text: str | bytes, kind: type[T], *, hook: DecHook = dec_hook) -> T:
    """JSON ``text`` as ``kind``; :class:`Invalid` says why not (not JSON at all, or each mistake)."""
    ready(kind)
    try:
        return msgspec.json.decode(text, type=kind, dec_hook=hook)
    except msgspec.ValidationError:
        return convert(msgspec.json.decode(text), kind, hook=hook)
    except msgspec.DecodeError as exc:
        raise Invalid([Problem((), f"not JSON: {exc}", "value")]) from None


def problem_of(exc: msgspec.ValidationError, data: Any, kind: Any = None, base: Loc = ()) -> Problem:
    """The located problem of one msgspec error about ``data`` (found at ``base``, typed ``kind``)."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    message = match["msg"]
    loc = base + tuple(int(i) if i and i.isdigit() else (name or "...")
                       for name, i in _STEP.findall(match["path"] or ""))
    if named := _FIELD_NAMED.match(message):
        missing = named[1] == "missing required"
        return Problem(loc + (named[2],), "missing required key" if missing else "unknown key (misspelt?)",
                       "missing" if missing else "unknown")
    value = _value_at(data, loc[len(base):])
    if message.startswith("Invalid enum value") and (allowed := _literal_values(kind) if loc == base else None):
        return Problem(loc, f"must be one of {', '.join(map(repr, allowed))}, got {value!r}", "value")
    if wrong := _WRONG_TYPE.match(message):
        return Problem(loc, f"wrong type: expected {wrong[1]}, got {type(value).__name__} {value!r}", "type")
    if bound := _CONSTRAINT.match(message):
        too_long = "length <" in message
        shown = f"length {len(value)}" if too_long and hasattr(value, "__len__") else repr(value)
        return Problem(loc, f"must be {'of length ' if 'length' in message else ''}{bound[1]} {bound[2]}, got {shown}",
                       "too_long" if too_long else "value")
    if regex := _REGEX.match(message):
        return Problem(loc, f"must match pattern {regex[1]}, got {value!r}", "value")
    return Problem(loc, message, "too_long" if message.startswith("at most") else "value")


def format_loc(loc: Loc) -> str:
    """``("instruments", 1, "driver")`` -> ``instruments[1].driver``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _bare(kind: Any) -> Any:
    """``kind`` without ``Annotated`` and without ``| None``."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if get_origin(kind) in (Union, types.UnionType):
        rest = [arg for arg in get_args(kind) if arg is not type(None)]
        if len(rest) == 1:
            return _bare(rest[0])
    return kind


def _literal_values(kind: Any) -> tuple[Any, ...]:
    bare = _bare(kind)
    return get_args(bare) if get_origin(bare) is Literal else ()


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _diagnose(data: Any, kind: Any, loc: Loc, strict: bool, hook: DecHook) -> Iterator[Problem]:
    """Every problem of ``data`` as ``kind``: struct fields, list items and dict values one by one."""
    bare = _bare(kind)
    found: list[Problem] = []
    if data is None or not (_is_struct(bare) or get_origin(bare) in (list, dict)):
        found = []
    elif _is_struct(bare) and isinstance(data, dict):
        found = list(_struct_problems(data, bare, loc, strict, hook))
    elif get_origin(bare) is list and isinstance(data, list):
        item = get_args(bare)[0]
        found = [p for index, value in enumerate(data) for p in _diagnose(value, item, loc + (index,), strict, hook)]
    elif get_origin(bare) is dict and isinstance(data, dict):
        item = get_args(bare)[1]
        found = [p for key, value in data.items() for p in _diagnose(value, item, loc + (str(key),), strict, hook)]
    if found:
        yield from found
        return
    try:
        msgspec.convert(data, kind, strict=strict, dec_hook=hook)
    except msgspec.ValidationError as exc:
        yield problem_of(exc, data, kind, loc)


def _struct_problems(data: dict[str, Any], kind: type[msgspec.Struct], loc: Loc, strict: bool,
                     hook: DecHook) -> Iterator[Problem]:
    fields = {field.encode_name: field for field in msgspec.structs.fields(kind)}
    for name, field in fields.items():
        if name in data:
            yield from _diagnose(data[name], field.type, loc + (name,), strict, hook)
        elif field.required:
            yield Problem(loc + (name,), "missing required key", "missing")
    if kind.__struct_config__.forbid_unknown_fields:
        for name in data:
            if name not in fields:
                yield Problem(loc + (name,), "unknown key (misspelt?)", "unknown")
