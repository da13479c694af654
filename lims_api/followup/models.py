"""Follow-up of results: positive cases with their event history, and public test requests (你点我检)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lims_api.core.models import Base, UTCDateTime, utc_now


class Case(Base):
    """The follow-up of one stored positive (current state; history is in ``case_events``)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"), unique=True)
    result_id: Mapped[str] = mapped_column(String)
    site_id: Mapped[str] = mapped_column(String, index=True)
    state: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    vendor_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    retest_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """Vendor notified + 4 h (Food Safety Law art. 88)."""
    lab_outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    lab_report_ref: Mapped[str | None] = mapped_column(String, default=None)
    disposition: Mapped[str | None] = mapped_column(String(16), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class CaseEvent(Base):
    """One append-only step of a case: who did what when, and the state it led to."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text)
    """JSON object of the action's inputs."""


class TestRequest(Base):
    """A resident's proposal of a product to test at a market (你点我检)."""

    __tablename__ = "test_requests"
    __test__ = False  # not a pytest test class

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    """The market the resident named; ``assigned_site_id`` is where it will be tested."""
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    client_hash: Mapped[str] = mapped_column(String(64), index=True)
    """SHA-256 of the client IP (for the rate limit; the address itself is not kept)."""
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    assigned_site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), default=None)
    triaged_by: Mapped[str | None] = mapped_column(String, default=None)
    triage_note: Mapped[str | None] = mapped_column(String(500), default=None)
    result_id: Mapped[str | None] = mapped_column(String, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
