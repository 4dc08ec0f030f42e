"""Reasons as data for swaps: `reason_code` and `reason_params` on swap requests, as on extra-session requests.

Rows from before keep their English `reason` sentence and a NULL code (shown as written).

Revision ID: 0012_swap_reason_codes
Revises: 0011_users
Create Date: 2026-12-07 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_swap_reason_codes"
down_revision: str | None = "0011_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("swap_requests") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("swap_requests") as batch:
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
