"""Swap requests between two experts (scheduler/swaps.py).

Revision ID: 0005_swaps
Revises: 0004_api
Create Date: 2026-11-22 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_swaps"
down_revision: str | None = "0004_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "swap_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("assignment_id", sa.String(), nullable=False),
        sa.Column("from_expert", sa.String(), nullable=False),
        sa.Column("to_expert", sa.String(), nullable=False),
        sa.Column("give_back_id", sa.String(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("roster_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_swap_requests_community_id_communities"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_requests")),
    )
    op.create_index(op.f("ix_swap_requests_community_id"), "swap_requests", ["community_id"], unique=False)
    op.create_index(op.f("ix_swap_requests_month"), "swap_requests", ["month"], unique=False)
    op.create_index(op.f("ix_swap_requests_from_expert"), "swap_requests", ["from_expert"], unique=False)
    op.create_index(op.f("ix_swap_requests_to_expert"), "swap_requests", ["to_expert"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_swap_requests_to_expert"), table_name="swap_requests")
    op.drop_index(op.f("ix_swap_requests_from_expert"), table_name="swap_requests")
    op.drop_index(op.f("ix_swap_requests_month"), table_name="swap_requests")
    op.drop_index(op.f("ix_swap_requests_community_id"), table_name="swap_requests")
    op.drop_table("swap_requests")
