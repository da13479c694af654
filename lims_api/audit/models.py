"""Tamper-evident audit log (hash chain), its head, the LIMS signing keys, daily checkpoints and the Merkle log's
head, signed tree heads and witness co-signatures (each stored envelope's log position is ``envelopes.log_index``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
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


class LogHead(Base):
    """The single row (id 1) holding the number of sequenced entries; updating it serialises sequencers."""

    __tablename__ = "merkle_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class TreeHead(Base):
    """A signed tree head: the LIMS's signature over (size, root) of the log's first ``size`` entries."""

    __tablename__ = "tree_heads"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    """JCS text of the signed tree head."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Cosignature(Base):
    """A witness's co-signature of one tree head (verified against a configured witness key on receipt)."""

    __tablename__ = "tree_head_cosignatures"

    size: Mapped[int] = mapped_column(ForeignKey("tree_heads.size"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    sig: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogBlock(Base):
    """The Merkle hash of one complete block of ``merkle_log.BLOCK`` log entries (block ``idx``), kept so that
    proofs read block hashes instead of every leaf."""

    __tablename__ = "merkle_blocks"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
