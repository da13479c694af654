"""Initial schema: sites, gateways, gateway_keys, envelopes, gaps, fork_alarms.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _gateway_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["gateway_id"], ["gateways.id"], name=f"fk_{table}_gateway_id_gateways")


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
    )
    op.create_table(
        "gateways",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_gateways_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_gateways"),
    )
    op.create_index("ix_gateways_site_id", "gateways", ["site_id"])
    op.create_table(
        "gateway_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        _gateway_fk("gateway_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_gateway_keys"),
        sa.UniqueConstraint("gateway_id", "kid", name="uq_gateway_keys_gateway_id_kid"),
    )
    op.create_table(
        "envelopes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("result_id", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("tested_at", sa.DateTime(), nullable=False),
        sa.Column("tested_offset_minutes", sa.Integer(), nullable=False),
        sa.Column("tested_date", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("sample_name", sa.String(), nullable=True),
        sa.Column("stall", sa.String(), nullable=True),
        sa.Column("instrument_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("cutoff", sa.Float(), nullable=True),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        _gateway_fk("envelopes"),
        sa.PrimaryKeyConstraint("id", name="pk_envelopes"),
        sa.UniqueConstraint("gateway_id", "seq", name="uq_envelopes_gateway_id_seq"),
    )
    op.create_index("ix_envelopes_result_id", "envelopes", ["result_id"])
    op.create_index("ix_envelopes_site_date", "envelopes", ["site_id", "tested_date"])
    op.create_table(
        "gaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("to_seq", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        _gateway_fk("gaps"),
        sa.PrimaryKeyConstraint("id", name="pk_gaps"),
    )
    op.create_index("ix_gaps_gateway_id", "gaps", ["gateway_id"])
    op.create_table(
        "fork_alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("stored_hash", sa.String(64), nullable=False),
        sa.Column("received_hash", sa.String(64), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        _gateway_fk("fork_alarms"),
        sa.PrimaryKeyConstraint("id", name="pk_fork_alarms"),
    )
    op.create_index("ix_fork_alarms_gateway_id", "fork_alarms", ["gateway_id"])


def downgrade() -> None:
    for table in ("fork_alarms", "gaps", "envelopes", "gateway_keys", "gateways", "sites"):
        op.drop_table(table)
