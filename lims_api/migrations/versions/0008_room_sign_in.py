"""Technicians' room-page sign-in: pseudonymous id, display name, PIN hash and badge digest on users.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("technician_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("display_name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("pin_hash", sa.String(), nullable=True))
        batch.add_column(sa.Column("badge_sha256", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_users_technician_id", ["technician_id"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_technician_id", type_="unique")
        for column in ("badge_sha256", "pin_hash", "display_name", "technician_id"):
            batch.drop_column(column)
