"""Tamper-evident audit log (hash chain), its head, the LIMS signing keys and daily checkpoints."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lims_api.core.models import Base, UTCDateTime, utc_now


class AuditEntry(Base):
    """One append-only audit entry; ``hash`` = SHA-256 over JCS of the entry without ``hash``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String)
    details: Mapped[str] = mapped_column(Text)
    """JCS text of the details object."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row (id 1) holding the last seq and hash; updating it serialises appenders."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class SigningKey(Base):
    """A public key of the LIMS itself (checkpoint signer); the private key stays in ``data_dir``."""

    __tablename__ = "lims_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Checkpoint(Base):
    """The signed checkpoint document of one LIMS-local day of ``stored_at``."""

    __tablename__ = "checkpoints"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    """JCS text of the signed checkpoint."""
    merkle_root: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    final: Mapped[bool] = mapped_column(default=False)
    """Made after the day ended: never rewritten, only re-checked."""
