"""ORM tables of the LIMS, one module per area; the schema itself is owned by the Alembic
migrations in ``migrations/`` and a test checks that both agree."""

from .access import AuthToken, District, Room, User, UserSite
from .audit import AuditEntry, AuditHead, Checkpoint, SigningKey
from .base import NAMING, Base, UTCDateTime, utc_now, utc_now_ms
from .followup import Case, CaseEvent, TestRequest
from .heartbeat import GatewayHeartbeat
from .results import ChainGap, ForkAlarm, Gateway, GatewayKey, Site, StoredEnvelope

__all__ = [
    "NAMING", "AuditEntry", "AuditHead", "AuthToken", "Base", "Case", "CaseEvent", "ChainGap", "Checkpoint",
    "District", "ForkAlarm", "Gateway", "GatewayHeartbeat", "GatewayKey", "Room", "SigningKey", "Site", "StoredEnvelope",
    "TestRequest", "User", "UserSite", "UTCDateTime", "utc_now", "utc_now_ms",
]
