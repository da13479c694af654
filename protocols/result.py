"""The canonical TestResult (wire contract §2) as frozen, validated msgspec structs.

Drivers build it, the gateway signs ``to_wire()``, the LIMS re-validates the ``result`` member of
each envelope with ``TestResult.from_wire``. Members the contract does not name are allowed on every
object: they are kept in its ``extra`` dict and put back on the wire beside the named ones.
More members may be added later; none of the contract's may be removed.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar, Literal, get_args

import msgspec

from ._validation import ready

SiteKind = Literal["market", "supermarket", "school", "canteen", "station"]
TestKind = Literal["enzyme_inhibition", "colloidal_gold", "quantitative"]
Verdict = Literal["negative", "positive", "invalid"]
Control = Literal["sample", "negative_control", "positive_control", "blank"]
Transport = Literal["serial", "modbus-rtu", "modbus-tcp", "astm"]
Encoding = Literal["base64"]


class ResultError(msgspec.ValidationError):
    """Every problem :meth:`TestResult.from_wire` found: ``problems`` is ``[(path, message)]``.

    A path is msgspec's, e.g. ``$.site.id`` or ``$.qc.flags[2]``; the message reads
    ``"<message> - at `<path>`"`` for each, joined by ``"; "``.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{message} - at `{path}`" for path, message in problems))
        self.problems = problems


class _Part(msgspec.Struct, frozen=True, kw_only=True):
    """An object of the result: its named members, checked on construction, plus ``extra`` ones.

    Each ``__post_init__`` is one fast test; :meth:`_refuse` then names what is wrong.
    """

    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    """Members the contract does not name (method-specific values, ``kit``, ``evidence``, ...)."""

    _TEXT: ClassVar[tuple[str, ...]] = ()
    _OPTIONAL_TEXT: ClassVar[tuple[str, ...]] = ()
    _CHOICES: ClassVar[tuple[tuple[str, frozenset[str]], ...]] = ()

    def _refuse(self) -> None:
        """Raise ``ValueError`` naming the first broken rule (returns if there is none)."""
        for name in self._TEXT:
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"`{name}` must be a string, got {_kind(getattr(self, name))}")
        for name in self._OPTIONAL_TEXT:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"`{name}` must be a string or null, got {_kind(value)}")
        for name, allowed in self._CHOICES:
            if getattr(self, name) not in allowed:
                raise ValueError(f"`{name}` must be one of {sorted(allowed)}, got {getattr(self, name)!r}")


_SITE_KINDS = frozenset(get_args(SiteKind))
_TEST_KINDS = frozenset(get_args(TestKind))
_VERDICTS = frozenset(get_args(Verdict))
_CONTROLS = frozenset(get_args(Control))
_TRANSPORTS = frozenset(get_args(Transport))


class Site(_Part, frozen=True, kw_only=True):
    id: str
    kind: SiteKind
    name: str

    _TEXT = ("id", "name")
    _CHOICES = (("kind", _SITE_KINDS),)

    def __post_init__(self) -> None:
        if not (isinstance(self.id, str) and isinstance(self.name, str) and self.kind in _SITE_KINDS):
            self._refuse()


class Instrument(_Part, frozen=True, kw_only=True):
    id: str
    model: str
    serial: str
    firmware: str
    driver: str

    _TEXT = ("id", "model", "serial", "firmware", "driver")

    def __post_init__(self) -> None:
        if not (isinstance(self.id, str) and isinstance(self.model, str) and isinstance(self.serial, str)
                and isinstance(self.firmware, str) and isinstance(self.driver, str)):
            self._refuse()


class Sample(_Part, frozen=True, kw_only=True):
    id: str | None = None
    name: str | None = None
    category: str | None = None
    origin: str | None = None
    supplier: str | None = None
    stall: str | None = None
    barcode: str | None = None

    _OPTIONAL_TEXT = ("id", "name", "category", "origin", "supplier", "stall", "barcode")

    def __post_init__(self) -> None:
        for value in (self.id, self.name, self.category, self.origin, self.supplier, self.stall, self.barcode):
            if value is not None and not isinstance(value, str):
                self._refuse()


class TestSpec(_Part, frozen=True, kw_only=True):
    __test__ = False  # not a pytest test class
    item: str
    method: str
    kind: TestKind
    analyte: str | None = None

    _TEXT = ("item", "method")
    _OPTIONAL_TEXT = ("analyte",)
    _CHOICES = (("kind", _TEST_KINDS),)

    def __post_init__(self) -> None:
        if not (isinstance(self.item, str) and isinstance(self.method, str) and self.kind in _TEST_KINDS
                and (self.analyte is None or isinstance(self.analyte, str))):
            self._refuse()


class Measurement(_Part, frozen=True, kw_only=True):
    """``value``/``unit``/``cutoff``; method-specific raw values go in ``extra``.

    An int ``value`` or ``cutoff`` is stored as a float (as the wire form gives it back).
    """

    value: float | None
    unit: str
    cutoff: float | None

    _TEXT = ("unit",)

    def __post_init__(self) -> None:
        value, cutoff = self.value, self.cutoff
        if not ((value is None or (type(value) is float and math.isfinite(value)))
                and (cutoff is None or (type(cutoff) is float and math.isfinite(cutoff)))
                and isinstance(self.unit, str)):
            self._refuse()

    def _refuse(self) -> None:
        super()._refuse()
        for name in ("value", "cutoff"):
            number = getattr(self, name)
            if type(number) is int:
                msgspec.structs.force_setattr(self, name, float(number))
            elif type(number) is float and not math.isfinite(number):
                raise ValueError(f"`{name}` must be a finite number (JCS cannot encode NaN/Inf)")
            elif number is not None and type(number) is not float:
                raise ValueError(f"`{name}` must be a number or null, got {_kind(number)}")


class QC(_Part, frozen=True, kw_only=True):
    control: Control = "sample"
    flags: list[str] = msgspec.field(default_factory=list)

    _CHOICES = (("control", _CONTROLS),)

    def __post_init__(self) -> None:
        if self.control not in _CONTROLS or type(self.flags) is not list:
            self._refuse()
        for flag in self.flags:
            if not isinstance(flag, str):
                self._refuse()

    def _refuse(self) -> None:
        super()._refuse()
        raise ValueError("`flags` must be a list of strings")


class Raw(_Part, frozen=True, kw_only=True):
    transport: Transport
    encoding: Encoding = "base64"
    data: str

    _TEXT = ("data",)
    _CHOICES = (("transport", _TRANSPORTS), ("encoding", frozenset(get_args(Encoding))))

    def __post_init__(self) -> None:
        if not (self.transport in _TRANSPORTS and self.encoding == "base64" and isinstance(self.data, str)):
            self._refuse()


class TestResult(_Part, frozen=True, kw_only=True):
    """One instrument reading, attributable and traceable (contract §2)."""

    __test__ = False  # not a pytest test class

    id: str
    site: Site
    instrument: Instrument
    channel: int | str | None
    sample: Sample
    test: TestSpec
    measurement: Measurement
    verdict: Verdict
    qc: QC
    operator: str
    tested_at: str
    received_at: str
    raw: Raw

    _TEXT = ("id", "operator", "tested_at", "received_at")
    _CHOICES = (("verdict", _VERDICTS),)

    def __post_init__(self) -> None:
        channel = self.channel
        if not (isinstance(self.id, str) and isinstance(self.operator, str) and self.verdict in _VERDICTS
                and (channel is None or type(channel) is int or isinstance(channel, str))
                and type(self.site) is Site and type(self.instrument) is Instrument and type(self.sample) is Sample
                and type(self.test) is TestSpec and type(self.measurement) is Measurement
                and type(self.qc) is QC and type(self.raw) is Raw
                and _time_problem(self.tested_at) is None and _time_problem(self.received_at) is None):
            self._refuse()

    def _refuse(self) -> None:
        super()._refuse()
        for name, part in _PARTS:
            if type(getattr(self, name)) is not part:
                raise ValueError(f"`{name}` must be a {part.__name__}, got {_kind(getattr(self, name))}")
        if not (self.channel is None or type(self.channel) is int or isinstance(self.channel, str)):
            raise ValueError(f"`channel` must be an integer, a string or null, got {_kind(self.channel)}")
        for name in ("tested_at", "received_at"):
            problem = _time_problem(getattr(self, name))
            if problem is not None:
                raise ValueError(f"`{name}`: {problem}")

    @classmethod
    def from_wire(cls, obj: Any) -> TestResult:
        """The result of a decoded ``result`` member, strictly checked; :class:`ResultError` lists every problem."""
        found = _extras(obj)
        try:
            result = msgspec.convert(obj if found is not None else _split_all(obj), cls, strict=True)
        except msgspec.ValidationError as exc:
            raise ResultError(_problems(obj) or [_located(str(exc), "$")]) from None
        for name, extra in found or ():
            msgspec.structs.force_setattr(getattr(result, name) if name else result, "extra", extra)
        return result

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict that goes into an envelope's ``result`` member (extra members inline)."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        _inline(wire, _TOP_NAMES)
        for name, _, names in _SPLITS:
            _inline(wire[name], names)
        return wire


_PARTS: tuple[tuple[str, type[_Part]], ...] = (
    ("site", Site), ("instrument", Instrument), ("sample", Sample), ("test", TestSpec),
    ("measurement", Measurement), ("qc", QC), ("raw", Raw),
)
_PART_OF = dict(_PARTS)
_OBJECTS: tuple[type[_Part], ...] = (TestResult, Site, Instrument, Sample, TestSpec, Measurement, QC, Raw)
_NAMES: dict[type[_Part], frozenset[str]] = {
    part: frozenset(part.__struct_fields__) - {"extra"} for part in _OBJECTS
}
"""The members each object names (everything else on the wire is ``extra``)."""
_SPLITS = tuple((name, part, _NAMES[part]) for name, part in _PARTS)
_TOP_NAMES = _NAMES[TestResult]

ready(TestResult)  # its msgspec type information, built now: a first use in several threads at once crashes


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _time_problem(value: str) -> str | None:
    """Why ``value`` is not an RFC 3339 time with an explicit offset; None if it is one."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"not an RFC 3339 time: {value!r}"
    if parsed.tzinfo is None:
        return f"RFC 3339 time needs an explicit offset: {value!r}"
    return None


def _split(part: type[_Part], obj: Any) -> Any:
    """``obj`` with the members ``part`` does not name moved into ``extra`` (``obj`` itself if none)."""
    if type(obj) is not dict:
        return obj
    names = _NAMES[part]
    if names.issuperset(obj):
        return obj
    prepared = {key: value for key, value in obj.items() if key in names}
    prepared["extra"] = {key: value for key, value in obj.items() if key not in names}
    return prepared


def _split_all(obj: Any) -> Any:
    """``obj`` and its objects, each with unknown members moved into ``extra`` (copies where needed)."""
    prepared = _split(TestResult, obj)
    if type(prepared) is dict:
        prepared = {**prepared, **{name: _split(part, prepared[name]) for name, part in _PARTS if name in prepared}}
    return prepared


def _extras(obj: Any) -> list[tuple[str, dict[str, Any]]] | None:
    """``[(member, unknown members)]`` of ``obj`` and its objects ("" for ``obj``); [] when all are named.

    None when some object has a member called ``extra`` (msgspec would take it for the field):
    then :func:`_split_all` prepares a copy instead.
    """
    if type(obj) is not dict:
        return []
    found = []
    if not _TOP_NAMES.issuperset(obj):
        if "extra" in obj:
            return None
        found.append(("", {key: value for key, value in obj.items() if key not in _TOP_NAMES}))
    for name, _, names in _SPLITS:
        member = obj.get(name)
        if type(member) is dict and not names.issuperset(member):
            if "extra" in member:
                return None
            found.append((name, {key: value for key, value in member.items() if key not in names}))
    return found


def _inline(wire: dict[str, Any], names: frozenset[str]) -> None:
    """Move ``wire["extra"]``'s members up beside the named ones (which they must not repeat)."""
    extra = wire.pop("extra")
    if extra:
        if not names.isdisjoint(extra):
            raise ValueError(f"`extra` repeats named member(s) {sorted(names.intersection(extra))}")
        wire.update(extra)


def _located(message: str, prefix: str) -> tuple[str, str]:
    """``(path, message)`` of a msgspec message, its path (``$``-relative) placed under ``prefix``."""
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        return prefix, message
    return prefix + where.rstrip("`")[1:], text


def _problems(obj: Any) -> list[tuple[str, str]]:
    """Each member of ``obj`` checked on its own, so that one bad member does not hide another."""
    if type(obj) is not dict:
        return []
    found = []
    for field in msgspec.structs.fields(TestResult):
        if field.name == "extra":
            continue
        if field.name not in obj:
            if field.required:
                found.append(("$", f"Object missing required field `{field.name}`"))
            continue
        value = obj[field.name]
        part = _PART_OF.get(field.name)
        try:
            msgspec.convert(_split(part, value) if part else value, field.type, strict=True)
        except msgspec.ValidationError as exc:
            found.append(_located(str(exc), f"$.{field.name}"))
            continue
        if field.name in ("tested_at", "received_at"):
            problem = _time_problem(value)
            if problem is not None:
                found.append((f"$.{field.name}", problem))
    return found
