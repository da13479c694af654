"""Positive cases and their events, public test requests, envelope trace codes (back-filled).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _trace_code(raw_text: str) -> str | None:
    result = json.loads(raw_text).get("result", {})
    code = result.get("trace_code") or (result.get("sample") or {}).get("barcode")
    return None if code is None else str(code).replace("\x00", "")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("vendor_notified_at", sa.DateTime(), nullable=True),
        sa.Column("retest_deadline", sa.DateTime(), nullable=True),
        sa.Column("lab_outcome", sa.String(16), nullable=True),
        sa.Column("lab_report_ref", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(16), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelopes.id"], name="fk_cases_envelope_id_envelopes"),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("envelope_id", name="uq_cases_envelope_id"),
    )
    op.create_index("ix_cases_site_id", "cases", ["site_id"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_events_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "test_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("client_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_site_id", sa.String(64), nullable=True),
        sa.Column("triaged_by", sa.String(), nullable=True),
        sa.Column("triage_note", sa.String(500), nullable=True),
        sa.Column("result_id", sa.String(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_site_id"], ["sites.id"], name="fk_test_requests_assigned_site_id_sites"
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_test_requests_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_test_requests"),
    )
    op.create_index("ix_test_requests_client_hash", "test_requests", ["client_hash"])
    op.create_index("ix_test_requests_created_at", "test_requests", ["created_at"])
    op.create_index("ix_test_requests_site_id", "test_requests", ["site_id"])
    op.add_column("envelopes", sa.Column("trace_code", sa.String(), nullable=True))
    op.create_index("ix_envelopes_trace_code", "envelopes", ["trace_code"])
    envelopes = sa.table("envelopes", sa.column("id", sa.Integer()), sa.column("raw_text", sa.Text()),
                         sa.column("trace_code", sa.String()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(envelopes.c.id, envelopes.c.raw_text)).all():
        code = _trace_code(row.raw_text)
        if code is not None:
            connection.execute(envelopes.update().where(envelopes.c.id == row.id).values(trace_code=code))


def downgrade() -> None:
    op.drop_index("ix_envelopes_trace_code", "envelopes")
    with op.batch_alter_table("envelopes") as batch:
        batch.drop_column("trace_code")
    for table in ("test_requests", "case_events", "cases"):
        op.drop_table(table)
