"""Reasons as data: `reason_code` and `reason_params` on unmet rows and extra-session requests.

Rows from before keep their English `reason` sentence and a NULL code (shown as written).

Revision ID: 0010_reason_codes
Revises: 0009_page_sessions
Create Date: 2026-12-07 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_reason_codes"
down_revision: str | None = "0009_page_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("roster_unmet", "extra_session_requests")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reason_code", sa.String(40), nullable=True))
            batch.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reason_params")
            batch.drop_column("reason_code")
