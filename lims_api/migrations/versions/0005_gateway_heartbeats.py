"""Latest signed heartbeat per gateway (console health: online/offline, backlog, clock skew).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_heartbeats",
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["gateway_id"], ["gateways.id"], name="fk_gateway_heartbeats_gateway_id_gateways"),
        sa.PrimaryKeyConstraint("gateway_id", name="pk_gateway_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("gateway_heartbeats")
