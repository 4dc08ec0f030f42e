"""Page sessions: the login cookie holds a random session id (stored hashed, with an expiry and a revoked mark), not the API token.

Revision ID: 0009_page_sessions
Revises: 0008_levers
Create Date: 2026-12-07 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_page_sessions"
down_revision: str | None = "0008_levers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("api_token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_tokens.id"], name=op.f("fk_page_sessions_api_token_id_api_tokens"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_sessions")),
        sa.UniqueConstraint("session_sha256", name=op.f("uq_page_sessions_session_sha256")),
    )
    with op.batch_alter_table("page_sessions") as batch:
        batch.create_index(batch.f("ix_page_sessions_api_token_id"), ["api_token_id"], unique=False)


def downgrade() -> None:
    op.drop_table("page_sessions")
