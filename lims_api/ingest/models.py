"""Ingest tables: sites, gateways and their keys, stored envelopes, chain gaps, fork alarms, latest heartbeats."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lims_api.core.models import Base, UTCDateTime, utc_now


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    district_id: Mapped[str | None] = mapped_column(ForeignKey("districts.id"), index=True, default=None)
    """Owning district; ``None`` for a site created by enrolment and not yet placed."""


class Gateway(Base):
    __tablename__ = "gateways"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True, default=None)


class GatewayKey(Base):
    __tablename__ = "gateway_keys"
    __table_args__ = (UniqueConstraint("gateway_id", "kid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"))
    kid: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    """Raw 32-byte Ed25519 public key, base64url without padding."""
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class StoredEnvelope(Base):
    """One accepted envelope: its exact received text plus columns extracted for queries."""

    __tablename__ = "envelopes"
    __table_args__ = (
        UniqueConstraint("gateway_id", "seq"),
        Index("ix_envelopes_site_date", "site_id", "tested_date"),
        Index("ix_envelopes_site_day_tally", "site_id", "tested_date", "qc_control", "verdict", "item", "instrument_id",
              "sample_name"),
        Index("ix_envelopes_site_day_time", "site_id", "tested_date", "tested_at"),
        Index("ix_envelopes_stored_at", "stored_at"),
        Index("ix_envelopes_unlogged", "id", sqlite_where=text("log_index IS NULL"),
              postgresql_where=text("log_index IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    prev: Mapped[str] = mapped_column(String(64))
    kid: Mapped[str] = mapped_column(String(16))
    raw_text: Mapped[str] = mapped_column(Text)
    result_id: Mapped[str] = mapped_column(String, index=True)
    site_id: Mapped[str] = mapped_column(String)
    tested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tested_offset_minutes: Mapped[int] = mapped_column(Integer)
    """UTC offset ``tested_at`` was written with, to show the instrument's local time."""
    tested_date: Mapped[date] = mapped_column(Date)
    """Local date of ``tested_at`` in its own offset."""
    verdict: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String)
    sample_name: Mapped[str | None] = mapped_column(String)
    stall: Mapped[str | None] = mapped_column(String)
    instrument_id: Mapped[str] = mapped_column(String)
    channel: Mapped[str | None] = mapped_column(String)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String)
    cutoff: Mapped[float | None] = mapped_column(Float)
    trace_code: Mapped[str | None] = mapped_column(String, index=True, default=None)
    """Batch trace code: the result's ``trace_code`` member, else ``sample.barcode``."""
    qc_control: Mapped[str] = mapped_column(String(20), default="sample", server_default="sample")
    """``qc.control``: only ``sample`` results are published (control and blank runs are QC, not products)."""
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    """Position in the Merkle log (reception order), set by the sequencer; ``None`` until then."""


class ChainGap(Base):
    """Seqs ``from_seq..to_seq`` of a gateway not yet received; ``closed_at`` set once all arrived."""

    __tablename__ = "gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), index=True)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    to_seq: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ForkAlarm(Base):
    """A second, different envelope for an already stored (gateway, seq)."""

    __tablename__ = "fork_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    stored_hash: Mapped[str] = mapped_column(String(64))
    received_hash: Mapped[str] = mapped_column(String(64))
    raw_text: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class GatewayHeartbeat(Base):
    """One row per gateway, replaced by each newer verified heartbeat."""

    __tablename__ = "gateway_heartbeats"

    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """Gateway clock when it sent the heartbeat."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """LIMS clock on reception; clock skew = received_at − sent_at."""
    interval_s: Mapped[float | None] = mapped_column(Float, default=None)
    backlog: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[str] = mapped_column(Text)
    """JCS text of the signed heartbeat as received (``sig`` included)."""
