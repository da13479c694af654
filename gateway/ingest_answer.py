"""What the LIMS's answer for one envelope means for the outbox; shared by the HTTP and MQTT uplinks.

An answer entry is one element of the HTTP ingest response's ``results`` (or one MQTT ack),
:class:`protocols.wire.answers.IngestAnswer`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from protocols.wire.answers import DELIVERED_STATUSES, NOT_ENROLLED_CODES, IngestAnswer

from .outbox import Outbox, StoredEnvelope

log = logging.getLogger("gateway.uplink")


Decision = Literal["delivered", "not_enrolled", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """The decision for one envelope; ``error`` explains a rejection or a not-enrolled answer."""

    decision: Decision
    error: str | None = None


@dataclass
class PassReport:
    """What one upload pass (HTTP) or one batch of acks (MQTT) did to the outbox."""

    delivered: int = 0
    rejected: int = 0
    not_enrolled: int = 0


def judge(entry: IngestAnswer, stored: StoredEnvelope) -> Outcome:
    """Decide one envelope from the LIMS's entry for it.

    ``stored``/``duplicate`` with our hash (or no hash) is delivered; a rejection for a
    not-enrolled gateway or key keeps it pending; anything else (including a stored hash
    that is not ours) rejects it for good.
    """
    status, code = entry.get("status"), entry.get("code")
    if status in DELIVERED_STATUSES:
        if entry.get("hash") in (None, stored.hash):
            return Outcome("delivered")
        return Outcome("rejected", f"hash_mismatch: LIMS holds seq {stored.seq} with hash {entry.get('hash')},"
                                   f" ours is {stored.hash}")
    if status == "rejected" and code in NOT_ENROLLED_CODES:
        return Outcome("not_enrolled", f"{code}: this gateway or key is not enrolled at the LIMS")
    return Outcome("rejected", f"{code or 'unknown'}: {entry.get('error') or status}")


class AnswerRecorder:
    """Applies judged answers to the outbox in one write per kind, logging as the HTTP uplink always did.

    Keeps the "not enrolled" warning to one per outage (re-armed by the next delivery).
    """

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._not_enrolled_logged = False

    def apply(self, answered: Iterable[tuple[StoredEnvelope, IngestAnswer]], report: PassReport) -> list[int]:
        """Record every (envelope, entry) pair; returns the seqs left pending because not enrolled."""
        delivered: list[int] = []
        not_enrolled: list[int] = []
        not_enrolled_error = ""
        for stored, entry in answered:
            outcome = judge(entry, stored)
            if outcome.decision == "delivered":
                delivered.append(stored.seq)
            elif outcome.decision == "not_enrolled":
                not_enrolled.append(stored.seq)
                not_enrolled_error = outcome.error or ""
            else:
                log.error("LIMS rejected an envelope", extra={"seq": stored.seq, "error": outcome.error})
                self.outbox.mark_rejected(stored.seq, outcome.error or "rejected")
                report.rejected += 1
        if delivered:
            self.outbox.mark_delivered(delivered)
        report.delivered += len(delivered)
        if not_enrolled:
            self.outbox.note_failed_attempt(not_enrolled, not_enrolled_error)
            report.not_enrolled += len(not_enrolled)
            if not self._not_enrolled_logged:
                log.warning("envelopes stay pending: %s", not_enrolled_error,
                            extra={"gateway": self.outbox.gateway_id})
            self._not_enrolled_logged = True
        elif delivered:
            self._not_enrolled_logged = False
        return not_enrolled
