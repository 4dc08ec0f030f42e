"""Events: the outbox of standing-data changes waiting to become roster versions (scheduler/events/outbox.py).

The APScheduler job table (`apscheduler_jobs`) is not here: APScheduler's SQLAlchemyJobStore owns and
creates it on start, and migrations/env.py leaves it out of autogenerate.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=True),
    sa.Column('township', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_versions', sa.JSON(), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index('ix_events_status_next', 'events', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_events_month_township', 'events', ['month', 'township'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_month_township', table_name='events')
    op.drop_index('ix_events_status_next', table_name='events')
    op.drop_table('events')
