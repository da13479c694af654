"""Where an ASTM message becomes TestResults: one per R record, judged against the limits table."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import tzinfo

from msgspec.structs import replace

from protocols.astm import ItemLimit, Message, ResultEntry, evaluate
from protocols.result import QC, Instrument, Measurement, Raw, Sample, TestResult, TestSpec
from protocols.uuid7 import uuid7

from ..base import DriverContext

DRIVER_NAME = "astm_quantitative"


@dataclass(frozen=True)
class Reading:
    """One TestResult and the key that identifies its reading at the instrument."""

    result: TestResult
    source_key: str


@dataclass(frozen=True)
class _Common:
    """What every result of one message shares."""

    message: Message
    instrument: Instrument
    raw: Raw
    received_at: str
    context: DriverContext
    tz: tzinfo


def readings(message: Message, raw: bytes, limits: dict[str, ItemLimit], context: DriverContext,
             tz: tzinfo) -> list[Reading]:
    """The TestResults of a parsed message; ``raw`` is the exact bytes of its frames."""
    model, serial, firmware = (message.header.sender + ("", "", ""))[:3]
    common = _Common(
        message=message,
        instrument=Instrument(id=context.instrument_id, model=model, serial=serial, firmware=firmware,
                              driver=DRIVER_NAME),
        raw=Raw(transport="astm", data=base64.b64encode(raw).decode("ascii")),
        received_at=context.clock().isoformat(timespec="milliseconds"),
        context=context, tz=tz,
    )
    labels: dict[int, tuple[Sample, str | None]] = {}
    out = []
    for entry in message.entries():
        channel = _channel(entry)
        group = id(entry.order) if entry.order is not None else id(entry.sample)
        if group not in labels:  # one label per sample, not per item
            labels[group] = context.labels.take(channel)
        label, operator = labels[group]
        result = _result(common, entry, limits.get(entry.result.test_code), channel, _sample(entry, label),
                         operator or context.operator)
        out.append(Reading(result, _source_key(serial, result.sample.id, entry, message)))
    return out


def _source_key(serial: str, sample_id: str | None, entry: ResultEntry, message: Message) -> str:
    """``serial:sample:completed:item``, the same for a re-sent message and different for another reading.

    Without a sample code and a completion time that would not tell two samples apart (the second
    would be dropped as "already stored"), so then a digest of the entry's own P, O and R records and
    the message time is added: a re-sent message repeats them, another sample does not.
    """
    key = f"{serial}:{sample_id or ''}:{entry.result.completed_at_text}:{entry.result.test_code}"
    if sample_id or entry.result.completed_at_text:
        return key
    identity = repr((message.header.timestamp, entry.sample, entry.order, entry.result)).encode("utf-8")
    return f"{key}:{hashlib.sha256(identity).hexdigest()[:16]}"


def _result(common: _Common, entry: ResultEntry, item: ItemLimit | None, channel: int | str | None,
            sample: Sample, operator: str) -> TestResult:
    record = entry.result
    evaluation = evaluate(record, item)
    flags = list(evaluation.flags)
    tested = record.completed_at or common.message.header.timestamp
    if tested is None:
        flags.append("no_instrument_time")
    measurement = Measurement(
        value=evaluation.value, unit=record.units or (item.unit if item else ""),
        cutoff=item.limit if item else None,
        extra={
            "limit_standard": item.standard if item else None,
            "instrument_flag": record.abnormal_flag or None, "instrument_status": record.status or None,
            "instrument_range": record.reference_range or None, "instrument_operator": record.operator or None,
            "comments": [c.text for c in entry.comments],
        },
    )
    return TestResult(
        id=uuid7(), site=common.context.site, instrument=common.instrument, channel=channel,
        sample=sample,
        test=TestSpec(item=item.name if item else record.test_code, method=item.method if item else "unknown",
                      kind="quantitative", analyte=record.test_code),
        measurement=measurement, verdict=evaluation.verdict, qc=QC(control="sample", flags=flags),
        operator=operator,
        tested_at=(tested.replace(tzinfo=common.tz).isoformat(timespec="milliseconds") if tested
                   else common.received_at),
        received_at=common.received_at, raw=common.raw,
    )


def _channel(entry: ResultEntry) -> int | str | None:
    value = entry.order.channel if entry.order else ""
    if not value:
        return None
    return int(value) if value.isdigit() else value


def _sample(entry: ResultEntry, label: Sample) -> Sample:
    """What the instrument says about the sample, gaps filled from the technician's label."""
    p, o = entry.sample, entry.order
    known = {
        "id": (p.code if p else "") or (o.specimen_id if o else ""),
        "name": p.name if p else "",
        "category": o.category if o else "",
        "stall": p.stall if p else "",
    }
    return replace(label, **{key: value or getattr(label, key) for key, value in known.items()})
