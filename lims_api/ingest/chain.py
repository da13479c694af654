"""Contract §1's receiver rules over one gateway's chain, in memory: duplicates, forks, site, prev links, gaps.

``ChainView`` holds what the database said about the seqs around a batch (read under the
gateway's row lock, see ``store``) and is updated line by line, so every line sees the lines
before it exactly as if each had been stored and committed on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lims_api.core.errors import EnvelopeRejected, WrongSite
from lims_api.core.log_limits import rate_limited

from .checks import CheckedEnvelope

logger = rate_limited(logging.getLogger(__name__))

Outcome = Literal["stored", "duplicate", "fork"]


@dataclass
class Gap:
    """A run of missing seqs; ``id`` is ``None`` until inserted, ``dirty`` once changed in memory."""

    from_seq: int
    to_seq: int
    opened_at: datetime
    id: int | None = None
    closed_at: datetime | None = None
    dirty: bool = False


@dataclass
class ChainView:
    """One gateway's stored (seq -> (hash, prev)) around the batch, its highest seq and its open gaps."""

    gateway: str
    site_id: str | None
    """Enrolled site; ``None`` when the gateway is not enrolled."""
    stored: dict[int, tuple[str, str]]
    last_seq: int
    now: datetime
    """The request's time, stamped on gaps opened or closed."""
    gaps: list[Gap] = field(default_factory=list)

    def judge(self, checked: CheckedEnvelope, signature: EnvelopeRejected | None) -> Outcome:
        """Decide one line (raising ``EnvelopeRejected``) and, when it is stored, record it in the view.

        ``signature`` is the line's signature verdict (``None``: valid); it is only consulted
        once the line is known not to be a duplicate.
        """
        if self.site_id is None:
            raise _reject(checked, "unknown_gateway", f"gateway {checked.gateway!r} is not enrolled")
        same_seq = self.stored.get(checked.seq)
        if same_seq is not None and same_seq[0] == checked.hash:
            return "duplicate"  # identical bytes were verified when first stored
        if signature is not None:
            raise signature
        if same_seq is not None:
            _log_fork(checked, same_seq[0])
            return "fork"
        _check_site(checked, self.site_id)
        _check_links(checked, self.stored)
        self._update_gaps(checked.seq, checked.hash)
        self.stored[checked.seq] = (checked.hash, checked.prev)
        self.last_seq = max(self.last_seq, checked.seq)
        return "stored"

    def _update_gaps(self, seq: int, digest: str) -> None:
        """Shrink/close the open gap holding this seq, or open a gap when seqs were skipped."""
        gap = next((g for g in self.gaps if g.closed_at is None and g.from_seq <= seq <= g.to_seq), None)
        now = self.now
        if gap is None:
            if seq > self.last_seq + 1:
                self.gaps.append(Gap(self.last_seq + 1, seq - 1, now))
                logger.warning(
                    "gap: gateway %s skipped seq %d..%d", self.gateway, self.last_seq + 1, seq - 1,
                    extra={"gateway": self.gateway, "from_seq": self.last_seq + 1, "to_seq": seq - 1},
                )
            return
        gap.dirty = True
        if gap.from_seq == gap.to_seq:
            gap.closed_at = now
        elif seq == gap.from_seq:
            gap.from_seq = seq + 1
        elif seq == gap.to_seq:
            gap.to_seq = seq - 1
        else:
            self.gaps.append(Gap(seq + 1, gap.to_seq, gap.opened_at))
            gap.to_seq = seq - 1


def _reject(checked: CheckedEnvelope, code: str, message: str) -> EnvelopeRejected:
    return EnvelopeRejected(code, message, gateway=checked.gateway, seq=checked.seq, envelope_hash=checked.hash)


def _log_fork(checked: CheckedEnvelope, stored_hash: str) -> None:
    logger.error(
        "fork: gateway %s sent a second, different envelope for seq %d",
        checked.gateway,
        checked.seq,
        extra={"gateway": checked.gateway, "seq": checked.seq, "code": "fork",
               "stored_hash": stored_hash, "received_hash": checked.hash},
    )


def _check_site(checked: CheckedEnvelope, enrolled_site: str) -> None:
    """A gateway speaks only for the site it is enrolled for: ``result.site.id`` must be that site."""
    claimed = checked.result.site.id
    if claimed != enrolled_site:
        raise WrongSite(
            f"result.site.id {claimed!r} is not the site {enrolled_site!r} gateway {checked.gateway!r} is enrolled"
            " for", claimed=claimed, enrolled=enrolled_site,
            gateway=checked.gateway, seq=checked.seq, envelope_hash=checked.hash,
        )


def _check_links(checked: CheckedEnvelope, neighbours: dict[int, tuple[str, str]]) -> None:
    """``prev`` must be the stored seq-1's hash; our hash must be the stored seq+1's ``prev``."""
    before = neighbours.get(checked.seq - 1)
    if before is not None and before[0] != checked.prev:
        raise _reject(
            checked, "broken_prev", f"prev {checked.prev} is not the hash {before[0]} of stored seq {checked.seq - 1}"
        )
    after = neighbours.get(checked.seq + 1)
    if after is not None and after[1] != checked.hash:
        raise _reject(
            checked, "broken_prev", f"hash {checked.hash} is not the prev {after[1]} of stored seq {checked.seq + 1}"
        )
