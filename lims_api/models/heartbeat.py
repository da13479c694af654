"""The latest signed heartbeat of each gateway (health of the gateway and its instruments)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


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
