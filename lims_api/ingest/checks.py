"""Stateless checks of one NDJSON line: JSON, envelope shape, hash, TestResult (no database)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from protocols.envelope import canonical_forms, check_shape
from protocols.errors import EnvelopeError
from protocols.result import ResultError, TestResult

from lims_api.core.errors import EnvelopeRejected

from .limits import result_bounds_problem


@dataclass(frozen=True)
class CheckedEnvelope:
    """An envelope whose JSON, shape and result are valid; chain and signature not yet checked."""

    raw_text: str
    envelope: dict[str, Any]
    gateway: str
    seq: int
    kid: str
    prev: str
    hash: str
    result: TestResult
    signing: bytes
    """JCS of the envelope without ``sig``: what the signature covers."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _reject_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate members; ``EnvelopeRejected`` says where."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_members)
    except json.JSONDecodeError as exc:
        raise EnvelopeRejected("malformed_json", f"invalid JSON at column {exc.colno}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise EnvelopeRejected("malformed_json", f"invalid JSON: {exc}") from exc


def _best_effort_ids(obj: Any) -> tuple[str | None, int | None]:
    if not isinstance(obj, dict):
        return None, None
    gateway = obj.get("gateway")
    seq = obj.get("seq")
    return (gateway if isinstance(gateway, str) else None), (seq if type(seq) is int else None)


def _result_errors(exc: ResultError) -> str:
    """``result.<path>: <why>`` for each problem, e.g. ``result.site.id: Expected `str`, got `int```."""
    return "; ".join(f"result{path[1:]}: {message}" for path, message in exc.problems)


def check_line(text: str) -> CheckedEnvelope:
    """Run every check that needs no stored state; raise ``EnvelopeRejected`` on the first failure."""
    return check_parsed(text, parse_envelope(text))


def parse_envelope(text: str) -> dict[str, Any]:
    """JSON with the envelope's shape (members, ids, seq, prev); ``EnvelopeRejected`` otherwise.

    Parsed without the strict hooks: :func:`check_parsed` proves a line strict JSON when its bytes are
    its own JCS form (as a gateway sends it), and parses any other line strictly. Here a line that
    fails is parsed strictly first, so a strict-JSON fault is named before a shape fault.
    """
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        obj = parse_json(text)  # raises with the reason
    gateway, seq = _best_effort_ids(obj)
    try:
        check_shape(obj)
    except EnvelopeError as exc:
        parse_json(text)
        raise EnvelopeRejected("schema", exc.message, gateway=gateway, seq=seq) from exc
    return obj  # type: ignore[no-any-return]


def check_parsed(text: str, obj: dict[str, Any]) -> CheckedEnvelope:
    """The rest of :func:`check_line` for ``obj`` = ``parse_envelope(text)``: strict JSON, bounds, JCS and
    hash, result.

    A line whose SHA-256 is its envelope hash is the JCS text itself, so it holds no duplicate member
    and no NaN/Infinity (JCS has neither); every other line is parsed again with the strict hooks.
    """
    gateway, seq = obj["gateway"], obj["seq"]
    too_big = result_bounds_problem(obj["result"])  # before hashing: JCS of a deep value would recurse
    if too_big is not None:
        parse_json(text)
        raise EnvelopeRejected("bad_result", too_big, gateway=gateway, seq=seq)
    try:
        signing, digest = canonical_forms(obj)
    except EnvelopeError as exc:
        parse_json(text)
        raise EnvelopeRejected("schema", exc.message, gateway=gateway, seq=seq) from exc
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
        parse_json(text)  # not in JCS form: strict JSON still required
    try:
        result = TestResult.from_wire(obj["result"])
    except ResultError as exc:
        raise EnvelopeRejected(
            "bad_result", _result_errors(exc), gateway=gateway, seq=seq, envelope_hash=digest
        ) from exc
    return CheckedEnvelope(
        raw_text=text,
        envelope=obj,
        gateway=gateway,
        seq=seq,
        kid=obj["kid"],
        prev=obj["prev"],
        hash=digest,
        result=result,
        signing=signing,
    )


def _text(value: Any) -> str | None:
    """Text for an extracted column; NUL is dropped (PostgreSQL text cannot hold it)."""
    return None if value is None else str(value).replace("\x00", "")


def query_columns(checked: CheckedEnvelope) -> dict[str, Any]:
    """Columns extracted from the result for queries and pages (the raw text stays authoritative)."""
    result = checked.result
    tested_at = datetime.fromisoformat(result.tested_at)
    offset = tested_at.utcoffset()
    assert offset is not None  # TestResult requires an explicit offset
    return {
        "result_id": _text(result.id),
        "site_id": _text(result.site.id),
        "tested_at": tested_at.astimezone(UTC),
        "tested_offset_minutes": int(offset.total_seconds() // 60),
        "tested_date": tested_at.date(),
        "verdict": result.verdict,
        "item": _text(result.test.item),
        "sample_name": _text(result.sample.name),
        "stall": _text(result.sample.stall),
        "instrument_id": _text(result.instrument.id),
        "channel": _text(result.channel),
        "value": result.measurement.value,
        "unit": _text(result.measurement.unit),
        "cutoff": result.measurement.cutoff,
        "trace_code": _text(trace_code(checked.envelope["result"])),
        "qc_control": result.qc.control,
    }


def trace_code(result: dict[str, Any]) -> Any:
    """The batch's trace code: the result's ``trace_code`` member if present, else ``sample.barcode``."""
    code = result.get("trace_code")
    if code is None:
        code = (result.get("sample") or {}).get("barcode")
    return code
