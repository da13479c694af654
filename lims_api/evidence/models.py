"""Plausibility flags, result fingerprints and camera evidence, kept beside the stored envelopes.

Append-only: rows are added as results and images arrive, never changed; the envelope's own
text stays as received.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lims_api.core.models import Base, UTCDateTime, utc_now


class ResultFlag(Base):
    """One flag of one stored result: from the signed ``qc.flags`` (``gateway``) or computed here (``lims``)."""

    __tablename__ = "result_flags"
    __table_args__ = (Index("ix_result_flags_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200), default=None)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ResultFingerprint(Base):
    """What a result's replay would repeat: its raw bytes, its method raw values and its sample."""

    __tablename__ = "result_fingerprints"

    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"), primary_key=True)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    measurement_key: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    sample_key: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String)


class ResultEvidence(Base):
    """An evidence entry a stored result names (``evidence: [{kind, sha256, taken_at}]``)."""

    __tablename__ = "result_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    taken_at: Mapped[str | None] = mapped_column(String(40), default=None)
    media_type: Mapped[str | None] = mapped_column(String(64), default=None)


class EvidenceFile(Base):
    """An uploaded image whose SHA-256 was checked and which a stored result names."""

    __tablename__ = "evidence_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class SiteSetting(Base):
    """Per-site settings the plausibility rules use (opening hours)."""

    __tablename__ = "site_settings"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    opening_hours: Mapped[str | None] = mapped_column(String(100), default=None)
    """``HH:MM-HH:MM`` ranges, comma-separated, in the instrument's local time; None: no rule."""
