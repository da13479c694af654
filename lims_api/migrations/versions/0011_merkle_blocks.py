"""Hashes of complete blocks of Merkle-log entries (proofs read these instead of every leaf).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merkle_blocks",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_merkle_blocks"),
    )


def downgrade() -> None:
    op.drop_table("merkle_blocks")
