"""Plausibility flags, result fingerprints, camera evidence and site opening hours.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _envelope_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["envelope_id"], ["envelopes.id"], name=f"fk_{table}_envelope_id_envelopes")


def upgrade() -> None:
    op.create_table(
        "result_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        _envelope_fk("result_flags"),
        sa.PrimaryKeyConstraint("id", name="pk_result_flags"),
    )
    op.create_index("ix_result_flags_code", "result_flags", ["code"])
    op.create_index("ix_result_flags_envelope_id", "result_flags", ["envelope_id"])
    op.create_table(
        "result_fingerprints",
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("measurement_key", sa.String(64), nullable=True),
        sa.Column("sample_key", sa.String(64), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        _envelope_fk("result_fingerprints"),
        sa.PrimaryKeyConstraint("envelope_id", name="pk_result_fingerprints"),
    )
    op.create_index("ix_result_fingerprints_raw_sha256", "result_fingerprints", ["raw_sha256"])
    op.create_index("ix_result_fingerprints_measurement_key", "result_fingerprints", ["measurement_key"])
    op.create_table(
        "result_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.String(40), nullable=True),
        sa.Column("media_type", sa.String(64), nullable=True),
        _envelope_fk("result_evidence"),
        sa.PrimaryKeyConstraint("id", name="pk_result_evidence"),
    )
    op.create_index("ix_result_evidence_envelope_id", "result_evidence", ["envelope_id"])
    op.create_index("ix_result_evidence_sha256", "result_evidence", ["sha256"])
    op.create_table(
        "evidence_files",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_evidence_files"),
    )
    op.create_table(
        "site_settings",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("opening_hours", sa.String(100), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_site_settings_site_id_sites"),
        sa.PrimaryKeyConstraint("site_id", name="pk_site_settings"),
    )


def downgrade() -> None:
    for table in ("site_settings", "evidence_files", "result_evidence", "result_fingerprints", "result_flags"):
        op.drop_table(table)
