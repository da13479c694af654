"""Indexes that let a site's day be counted and paged without reading the stored envelope texts.

``ix_envelopes_site_day_tally`` covers the board's and the notice's grouped counts and filter lists;
``ix_envelopes_site_day_time`` walks a day newest first, so one page costs what its rows cost.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_envelopes_site_day_tally", "envelopes",
                    ["site_id", "tested_date", "qc_control", "verdict", "item", "instrument_id", "sample_name"])
    op.create_index("ix_envelopes_site_day_time", "envelopes", ["site_id", "tested_date", "tested_at"])


def downgrade() -> None:
    op.drop_index("ix_envelopes_site_day_time", "envelopes")
    op.drop_index("ix_envelopes_site_day_tally", "envelopes")
