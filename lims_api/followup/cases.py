"""Follow-up of a positive (Food Safety Law art. 88): one explicit transition table, append-only events.

held (暂停销售) ──request_retest──▶ retest_requested ──record_lab_result──▶ lab_result ──dispose──▶
disposition ──close──▶ closed; ``notify_vendor`` starts the vendor's 4-hour re-test window in ``held``.
Every step is a ``case_events`` row and an audit entry; a missed window is recorded, never hidden.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.result import TestResult

from lims_api.audit import audit_log
from lims_api.core.errors import CaseError
from lims_api.ingest.hooks import StoredRow

from .models import Case, CaseEvent

State = Literal["held", "retest_requested", "lab_result", "disposition", "closed"]
Action = Literal["notify_vendor", "request_retest", "record_lab_result", "dispose", "close"]
RETEST_WINDOW = timedelta(hours=4)
ACTORS = frozenset({"manager", "regulator", "admin"})
OVERSIGHT = frozenset({"regulator", "admin"})

TRANSITIONS: dict[tuple[State, Action], tuple[State, frozenset[str]]] = {
    # (state, action):                      (next state,        roles allowed)
    ("held", "notify_vendor"):              ("held",             ACTORS),
    ("held", "request_retest"):             ("retest_requested", ACTORS),
    ("held", "record_lab_result"):          ("lab_result",       ACTORS),
    ("held", "dispose"):                    ("disposition",      ACTORS),
    ("retest_requested", "record_lab_result"): ("lab_result",    ACTORS),
    ("lab_result", "dispose"):              ("disposition",      ACTORS),
    ("disposition", "close"):               ("closed",           OVERSIGHT),
}
"""The only legal steps. Anything else is a ``CaseError`` naming the state and the action."""

OPEN_STATES: frozenset[str] = frozenset({"held", "retest_requested"})
TRANSITIONS_ACTIONS: frozenset[str] = frozenset(action for (_, action) in TRANSITIONS)


def next_actions(case: Case, role: str, now: datetime) -> list[Action]:
    """The steps ``role`` can take on ``case`` now, in table order (what a page offers as forms).

    Leaves out what the rules would refuse anyway: notifying twice, and disposing without a lab
    result before the vendor's window is over.
    """
    steps = [action for (state, action), (_, roles) in TRANSITIONS.items() if state == case.state and role in roles]
    if case.vendor_notified_at is not None:
        steps = [a for a in steps if a != "notify_vendor"]
    window_open = case.retest_deadline is None or case.retest_deadline > now
    if case.lab_outcome is None and window_open:
        steps = [a for a in steps if a != "dispose"]
    return steps


def is_overdue(case: Case, now: datetime) -> bool:
    """The vendor's re-test deadline has passed and no lab result is recorded yet."""
    return (
        case.state in OPEN_STATES and case.retest_deadline is not None
        and case.retest_deadline < now and case.lab_outcome is None
    )


def _record(
    session: Session, case: Case, actor: str, action: str, from_state: str | None, details: dict[str, Any],
    at: datetime,
) -> None:
    session.add(CaseEvent(case_id=case.id, at=at, actor=actor, action=action, from_state=from_state,
                          to_state=case.state, details=json.dumps(details, ensure_ascii=False, sort_keys=True)))
    audit_log.append(session, actor, f"case.{action}", f"case:{case.id}",
                     {**details, "from": from_state, "to": case.state}, at=at)


def open_case(session: Session, stored: StoredRow, at: datetime) -> Case:
    """Open the case of a just-stored positive: state ``held`` (the batch is held from sale)."""
    case = Case(envelope_id=stored.id, result_id=stored.result_id, site_id=stored.site_id, state="held",
                opened_at=at, updated_at=at)
    session.add(case)
    session.flush()
    _record(session, case, "system:ingest", "open", None,
            {"gateway": stored.gateway_id, "seq": stored.seq, "result_id": stored.result_id}, at)
    return case


def open_case_for_positive(session: Session, stored: StoredRow, result: TestResult, at: datetime) -> None:
    """Ingest hook: a stored positive sample (never a QC control run) opens its case."""
    if result.verdict == "positive" and result.qc.control == "sample":
        open_case(session, stored, at)


def _when(value: datetime | None, now: datetime) -> datetime:
    return now if value is None else value


def _apply(case: Case, action: Action, inputs: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Check the action's inputs against the record, update the case, return the event details."""
    if action in ("notify_vendor", "request_retest") and case.vendor_notified_at is None:
        told = _when(inputs.get("notified_at"), now)
        case.vendor_notified_at, case.retest_deadline = told, told + RETEST_WINDOW
    elif action == "notify_vendor":
        raise CaseError(f"case {case.id}: the vendor was already notified at {case.vendor_notified_at}",
                        "already_notified", at=case.vendor_notified_at)
    details: dict[str, Any] = {"note": inputs.get("note")}
    if action == "notify_vendor":
        return {**details, "retest_deadline": case.retest_deadline.isoformat()}  # type: ignore[union-attr]
    if action == "request_retest":
        requested = _when(inputs.get("requested_at"), now)
        return {**details, "requested_at": requested.isoformat(),
                "within_window": requested <= case.retest_deadline}  # type: ignore[operator]
    if action == "record_lab_result":
        if inputs.get("lab_outcome") is None or not inputs.get("lab_report_ref"):
            raise CaseError("record_lab_result needs lab_outcome and lab_report_ref", "lab_inputs")
        case.lab_outcome, case.lab_report_ref = inputs["lab_outcome"], inputs["lab_report_ref"]
        return {**details, "lab_outcome": case.lab_outcome, "lab_report_ref": case.lab_report_ref}
    if action == "dispose":
        return {**details, "disposition": _dispose(case, inputs.get("disposition"), now)}
    return details


def _dispose(case: Case, disposition: str | None, now: datetime) -> str:
    """Disposition must fit the lab outcome; without one, only after the vendor's window closed."""
    allowed = {"confirmed": {"destroyed"}, "not_confirmed": {"released"}, None: {"destroyed", "returned"}}
    if disposition not in allowed[case.lab_outcome]:
        raise CaseError(f"disposition {disposition!r} does not fit lab outcome {case.lab_outcome!r} "
                        f"(allowed: {', '.join(sorted(allowed[case.lab_outcome]))})", "disposition",
                        disposition=disposition, outcome=case.lab_outcome, allowed=sorted(allowed[case.lab_outcome]))
    if case.lab_outcome is None and (case.retest_deadline is None or case.retest_deadline > now):
        raise CaseError("the vendor's 4-hour re-test window is not over (notify the vendor first)",
                        "window_open", deadline=case.retest_deadline)
    case.disposition = disposition
    return disposition


def act(session: Session, case: Case, action: Action, role: str, actor: str, inputs: dict[str, Any],
        now: datetime) -> Case:
    """Apply one step of the table; ``CaseError`` for an illegal step, ``PermissionError`` for a wrong role."""
    step = TRANSITIONS.get((case.state, action))  # type: ignore[arg-type]
    if step is None:
        legal = sorted(a for (s, a) in TRANSITIONS if s == case.state)
        raise CaseError(f"case {case.id} is {case.state}: {action} is not allowed (allowed: {', '.join(legal) or 'none'})",
                        "not_allowed", state=case.state, action=action, allowed=legal)
    next_state, roles = step
    if role not in roles:
        raise PermissionError(f"{action} needs role {' or '.join(sorted(roles))}")
    from_state = case.state
    details = _apply(case, action, inputs, now)
    case.state, case.updated_at = next_state, now
    _record(session, case, actor, action, from_state, details, now)
    return case


def case_events(session: Session, case_id: int) -> list[CaseEvent]:
    """A case's history, oldest first."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
