"""Request and response bodies for positive cases and public test requests (你点我检)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from lims_api.core.schemas import Rfc3339
from protocols.text import public_line, public_lines

PublicLine = Annotated[str, AfterValidator(public_line)]
PublicLines = Annotated[str, AfterValidator(public_lines)]


class CaseActionIn(BaseModel):
    """One step of a case; which members are needed depends on ``action``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "notify_vendor", "notified_at": "2026-11-23T09:30:00+08:00"},
        {"action": "request_retest", "note": "摊主申请复检"},
        {"action": "record_lab_result", "lab_outcome": "confirmed", "lab_report_ref": "CQ-LAB-2026-11-0231"},
        {"action": "dispose", "disposition": "destroyed", "note": "监督销毁 12 kg"},
        {"action": "close"},
    ]})
    action: Literal["notify_vendor", "request_retest", "record_lab_result", "dispose", "close"]
    notified_at: AwareDatetime | None = None
    requested_at: AwareDatetime | None = None
    lab_outcome: Literal["confirmed", "not_confirmed"] | None = None
    lab_report_ref: str | None = Field(default=None, max_length=200)
    disposition: Literal["destroyed", "returned", "released"] | None = None
    note: str | None = Field(default=None, max_length=1000)


class CaseEventOut(BaseModel):
    at: Rfc3339
    actor: str
    action: str
    from_state: str | None
    to_state: str
    details: dict[str, Any]


class CaseOut(BaseModel):
    id: int
    result_id: str
    site_id: str
    state: str
    opened_at: Rfc3339
    vendor_notified_at: Rfc3339 | None
    retest_deadline: Rfc3339 | None
    lab_outcome: str | None
    lab_report_ref: str | None
    disposition: str | None
    overdue: bool
    """Re-test deadline passed with no lab result."""
    events: list[CaseEventOut] = Field(default_factory=list)


class CasesResponse(BaseModel):
    cases: list[CaseOut]


class PublicRequestIn(BaseModel):
    """A resident's proposal: which product to test at which market."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"product": "韭菜", "site_id": "yz-market-07", "note": "最近买的韭菜味道不对"}]})
    product: PublicLine = Field(min_length=1, max_length=100)
    site_id: str = Field(min_length=1, max_length=64)
    note: PublicLines | None = Field(default=None, max_length=500)


class PublicRequestOut(BaseModel):
    """What the public sees of a request: its status and, once tested, the result id."""

    id: int
    product: str
    site_id: str
    status: str
    created_at: Rfc3339
    result_id: str | None


class RequestOut(PublicRequestOut):
    note: str | None
    assigned_site_id: str | None
    triaged_by: str | None
    triage_note: str | None
    closed_at: Rfc3339 | None


class RequestsResponse(BaseModel):
    requests: list[RequestOut]


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decision": "assign", "site_id": "yz-market-07", "note": "明早入场检测"},
        {"decision": "reject", "note": "该产品不在快检范围"}]})
    decision: Literal["assign", "reject"]
    site_id: str | None = None
    """Where to test (required to assign)."""
    note: str | None = Field(default=None, max_length=500)


class CloseRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"result_id": "0193a1f2-7c00-7000-8000-000000000001"}]})
    result_id: str = Field(min_length=1, max_length=100)
