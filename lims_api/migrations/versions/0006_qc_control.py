"""Store each result's ``qc.control`` so that only sample results are published.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("envelopes", sa.Column("qc_control", sa.String(20), nullable=False, server_default="sample"))
    envelopes = sa.table("envelopes", sa.column("id", sa.Integer()), sa.column("raw_text", sa.Text()),
                         sa.column("qc_control", sa.String()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(envelopes.c.id, envelopes.c.raw_text)).all():
        control = ((json.loads(row.raw_text).get("result") or {}).get("qc") or {}).get("control", "sample")
        if control != "sample":
            connection.execute(envelopes.update().where(envelopes.c.id == row.id).values(qc_control=control))


def downgrade() -> None:
    with op.batch_alter_table("envelopes") as batch:
        batch.drop_column("qc_control")
