"""Office users (name and argon2 password) and one-time login links for township heads and experts; page sessions opened by either.

`page_sessions.api_token_id` becomes nullable: a session is opened by exactly one of an API token, an
office user or a login link. Downgrading drops the users, the links and the sessions they opened.

Revision ID: 0011_users
Revises: 0010_reason_codes
Create Date: 2026-12-07 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_users"
down_revision: str | None = "0010_reason_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_office_users_community_id_communities"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_users")),
        sa.UniqueConstraint("community_id", "name", name="uq_office_users_community_id_name"),
    )
    op.create_index(op.f("ix_office_users_community_id"), "office_users", ["community_id"], unique=False)
    op.create_table(
        "login_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("township", sa.String(), nullable=True),
        sa.Column("expert", sa.String(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_login_links_community_id_communities"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_login_links_token_sha256")),
    )
    op.create_index(op.f("ix_login_links_community_id"), "login_links", ["community_id"], unique=False)
    with op.batch_alter_table("page_sessions") as batch:
        batch.alter_column("api_token_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("login_link_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_page_sessions_user_id_office_users"), "office_users", ["user_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(batch.f("fk_page_sessions_login_link_id_login_links"), "login_links", ["login_link_id"], ["id"], ondelete="CASCADE")
        batch.create_index(batch.f("ix_page_sessions_user_id"), ["user_id"], unique=False)
        batch.create_index(batch.f("ix_page_sessions_login_link_id"), ["login_link_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM page_sessions WHERE api_token_id IS NULL")
    with op.batch_alter_table("page_sessions") as batch:
        batch.drop_index(batch.f("ix_page_sessions_login_link_id"))
        batch.drop_index(batch.f("ix_page_sessions_user_id"))
        batch.drop_constraint(batch.f("fk_page_sessions_login_link_id_login_links"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_page_sessions_user_id_office_users"), type_="foreignkey")
        batch.drop_column("login_link_id")
        batch.drop_column("user_id")
        batch.alter_column("api_token_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("login_links")
    op.drop_table("office_users")
