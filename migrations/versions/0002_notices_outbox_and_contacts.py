"""Notices: the outbox (`notices`, one row per dedup key) and recipients' `contacts` (scheduler/notify/models.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:52:27.915800
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('recipient_kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('webhook_url', sa.String(length=1000), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('recipient_kind', 'ref_id', name='uq_contacts_recipient')
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dedup_key', sa.String(length=255), nullable=False),
    sa.Column('recipient_kind', sa.String(length=16), nullable=False),
    sa.Column('recipient_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('interrupted', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('dedup_key', name='uq_notices_dedup_key')
    )
    # The due-notice query of the delivery loop, and the office's per-recipient view.
    op.create_index('ix_notices_due', 'notices', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_notices_recipient', 'notices', ['recipient_kind', 'recipient_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notices_recipient', table_name='notices')
    op.drop_index('ix_notices_due', table_name='notices')
    op.drop_table('notices')
    op.drop_table('contacts')
