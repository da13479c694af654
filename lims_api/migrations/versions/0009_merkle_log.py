"""The Merkle log: a log position per stored envelope, the sequencer's head, signed tree heads, co-signatures.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("envelopes") as batch:
        batch.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint("uq_envelopes_log_index", ["log_index"])
    op.create_index("ix_envelopes_unlogged", "envelopes", ["id"], sqlite_where=sa.text("log_index IS NULL"),
                    postgresql_where=sa.text("log_index IS NULL"))
    op.create_table(
        "merkle_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merkle_log_head"),
    )
    op.execute("INSERT INTO merkle_log_head (id, size) VALUES (1, 0)")
    op.create_table(
        "tree_heads",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_tree_heads"),
    )
    op.create_table(
        "tree_head_cosignatures",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("sig", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["size"], ["tree_heads.size"], name="fk_tree_head_cosignatures_size_tree_heads"),
        sa.PrimaryKeyConstraint("size", "kid", name="pk_tree_head_cosignatures"),
    )


def downgrade() -> None:
    op.drop_table("tree_head_cosignatures")
    op.drop_table("tree_heads")
    op.drop_table("merkle_log_head")
    op.drop_index("ix_envelopes_unlogged", table_name="envelopes")
    with op.batch_alter_table("envelopes") as batch:
        batch.drop_constraint("uq_envelopes_log_index", type_="unique")
        batch.drop_column("log_index")
