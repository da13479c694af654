"""What every instrument driver is: built from config, owns its I/O, emits TestResults.

The gateway core only knows this module and the registry; it never imports a
specific driver. Durability rule: a driver awaits ``sink(result)`` — which
returns only once the result is committed to the outbox — *before* it
acknowledges the reading to the instrument (ack register, ASTM ACK, ...).
"""

from __future__ import annotations

import abc
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from protocols.result import Sample, Site, TestResult

from .link_watch import LinkListener, ignore_link

ResultSink = Callable[[TestResult, str | None], Awaitable[bool]]
"""``await sink(result, source_key)`` durably stores one result and returns after the commit.

``source_key`` identifies the reading at its source (e.g. ``"<serial>:<result seq>"``) so a
reading seen again after a crash between commit and instrument ack is not stored twice: the
sink returns ``True`` when it stored the result, ``False`` when that key was already stored.
Drivers without such an identity pass ``None``.
"""


ReadingIdentity = Callable[[TestResult], bytes]
"""The bytes that make a reading itself, whatever the gateway added (labels, flags, ids, receive time).

Two results under the same source key are the same reading exactly when these are equal: a result
counter that restarted or wrapped reuses keys, a re-sent reading repeats these bytes.
"""


def raw_identity(result: TestResult) -> bytes:
    """The reading's raw bytes as the instrument sent them: the identity for most drivers."""
    return base64.b64decode(result.raw.data)


def serial_path(port: object) -> str | None:
    """``port`` when it names a local device file; ``None`` for a pyserial URL (``socket://``...) or a TCP port."""
    return port if isinstance(port, str) and "://" not in port else None


class DriverError(Exception):
    """Base of driver errors."""


class DriverConfigError(DriverError):
    """A driver's config section is invalid; the message names the key and why."""


@dataclass(frozen=True)
class LabelSource:
    """Sample labels the technician set per channel (room page); default: none known."""

    take: Callable[[int | str | None], tuple[Sample, str | None]] = field(
        default=lambda channel: (Sample(), None)
    )
    """Return (sample label, operator override) bound to the next result on ``channel``."""


@dataclass(frozen=True)
class DriverContext:
    """What a driver needs from the gateway to turn readings into TestResults."""

    site: Site
    instrument_id: str
    operator: str
    clock: Callable[[], datetime]
    """Gateway clock, timezone-aware; used for ``received_at``."""
    labels: LabelSource = field(default_factory=LabelSource)


class Driver(abc.ABC):
    """One connected instrument. ``run`` reads until cancelled, reconnecting on its own."""

    name: str = ""

    def __init__(self, options: dict[str, Any], context: DriverContext) -> None:
        self.options = options
        self.context = context
        self.link_listener: LinkListener = ignore_link
        """Told each time the instrument link comes up or goes down (the gateway's health sets it)."""

    def reading_identity(self, result: TestResult) -> bytes:
        """:data:`ReadingIdentity` of this driver's results: the raw bytes unless the instrument re-sends
        a reading with other bytes (then the driver overrides this)."""
        return raw_identity(result)

    @property
    def serial_device(self) -> str | None:
        """Local serial device path the driver opens (``check-config`` tests it exists); ``None``: no device."""
        return None

    @abc.abstractmethod
    async def run(self, sink: ResultSink) -> None:
        """Read the instrument forever, awaiting ``sink`` for every result before acking it.

        Must survive instrument faults (log them, resynchronise, reconnect with backoff) and
        return only when cancelled.
        """
