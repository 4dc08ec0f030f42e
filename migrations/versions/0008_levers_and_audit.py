"""The office's levers and who did what: `roster_pins`, `audit_entries`, and the actor of every roster version.

Revision ID: 0008_levers
Revises: 0007_jobs
Create Date: 2026-12-07 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_levers"
down_revision: str | None = "0007_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("roster_versions") as batch:
        batch.add_column(sa.Column("actor", sa.Text(), nullable=False, server_default="system"))
        batch.add_column(sa.Column("actor_role", sa.String(16), nullable=False, server_default="system"))
    op.create_table(
        "roster_pins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("assignment_id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("half_day", sa.String(2), nullable=False),
        sa.Column("township", sa.String(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("specialty", sa.String(), nullable=True),
        sa.Column("expert", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("pinned_by", sa.Text(), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("community_id", "month", "assignment_id"),
    )
    op.create_index("ix_roster_pins_community_id", "roster_pins", ["community_id"])
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=True),
        sa.Column("township", sa.String(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_audit_entries_community_id", "audit_entries", ["community_id"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_index("ix_audit_entries_kind", "audit_entries", ["kind"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("roster_pins")
    with op.batch_alter_table("roster_versions") as batch:
        batch.drop_column("actor_role")
        batch.drop_column("actor")
