"""A job's failure as data: `failure` on jobs, so the process that waits for a job can tell a solve the hard rules refused.

The event worker waits for a `rota worker`'s re-plan by polling the job's row; a re-plan that cannot keep
a pin must reach it as the same refusal it would raise in process (scheduler.tasks.failures), not as a
message. Rows from before have NULL: their failures were only messages.

Revision ID: 0013_job_failures
Revises: 0012_swap_reason_codes
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_job_failures"
down_revision: str | None = "0012_swap_reason_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("failure", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("failure")
