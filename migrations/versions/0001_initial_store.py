"""Initial store: a community's standing data (the scenario file) and its roster versions.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 21:43:02.969415
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('timezone', sa.String(), nullable=False),
    sa.Column('holidays', sa.String(), nullable=False),
    sa.Column('closed_dates', sa.JSON(), nullable=False),
    sa.Column('extra_workdays', sa.JSON(), nullable=False),
    sa.Column('half_days', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('name', name=op.f('uq_communities_name'))
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('min_on_site', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_departments_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_departments_community_id'))
    )
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departments_community_id'), ['community_id'], unique=False)

    op.create_table('roster_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('solver_report', sa.JSON(), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_roster_versions_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_versions')),
    sa.UniqueConstraint('community_id', 'month', 'version', name=op.f('uq_roster_versions_community_id'))
    )
    with op.batch_alter_table('roster_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_versions_community_id'), ['community_id'], unique=False)

    op.create_table('specialties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_specialties_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specialties')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_specialties_community_id'))
    )
    with op.batch_alter_table('specialties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specialties_community_id'), ['community_id'], unique=False)

    op.create_table('townships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('travel_minutes', sa.Integer(), nullable=False),
    sa.Column('rooms', sa.Integer(), nullable=False),
    sa.Column('inpatient_ward', sa.Boolean(), nullable=False),
    sa.Column('preferred_weekdays', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_townships_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_townships')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_townships_community_id'))
    )
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_townships_community_id'), ['community_id'], unique=False)

    op.create_table('demand_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_demand_rows_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialties.id'], name=op.f('fk_demand_rows_specialty_id_specialties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['township_id'], ['townships.id'], name=op.f('fk_demand_rows_township_id_townships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_rows'))
    )
    with op.batch_alter_table('demand_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_rows_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_rows_specialty_id'), ['specialty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_rows_township_id'), ['township_id'], unique=False)

    op.create_table('experts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('max_sessions', sa.Integer(), nullable=False),
    sa.Column('avoid_weekdays', sa.JSON(), nullable=False),
    sa.Column('previous_townships', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_experts_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_experts_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experts')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_experts_community_id'))
    )
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experts_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_experts_department_id'), ['department_id'], unique=False)

    op.create_table('roster_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.String(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('half_day', sa.String(length=2), nullable=False),
    sa.Column('township', sa.String(), nullable=False),
    sa.Column('type', sa.String(), nullable=False),
    sa.Column('specialty', sa.String(), nullable=True),
    sa.Column('expert', sa.String(), nullable=False),
    sa.Column('link_visit', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['roster_versions.id'], name=op.f('fk_roster_assignments_version_id_roster_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_assignments')),
    sa.UniqueConstraint('version_id', 'assignment_id', name=op.f('uq_roster_assignments_version_id'))
    )
    with op.batch_alter_table('roster_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_assignments_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_assignments_expert'), ['expert'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_assignments_version_id'), ['version_id'], unique=False)

    op.create_table('roster_unmet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('township', sa.String(), nullable=False),
    sa.Column('type', sa.String(), nullable=False),
    sa.Column('specialty', sa.String(), nullable=True),
    sa.Column('member', sa.String(), nullable=True),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['roster_versions.id'], name=op.f('fk_roster_unmet_version_id_roster_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_unmet'))
    )
    with op.batch_alter_table('roster_unmet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_unmet_version_id'), ['version_id'], unique=False)

    op.create_table('township_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['township_id'], ['townships.id'], name=op.f('fk_township_closures_township_id_townships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_township_closures')),
    sa.UniqueConstraint('township_id', 'date', name=op.f('uq_township_closures_township_id'))
    )
    with op.batch_alter_table('township_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_township_closures_township_id'), ['township_id'], unique=False)

    op.create_table('expert_specialties',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], name=op.f('fk_expert_specialties_expert_id_experts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialties.id'], name=op.f('fk_expert_specialties_specialty_id_specialties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'specialty_id', name=op.f('pk_expert_specialties'))
    )
    with op.batch_alter_table('expert_specialties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_specialties_specialty_id'), ['specialty_id'], unique=False)

    op.create_table('expert_unavailability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=True),
    sa.Column('to_date', sa.Date(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('half_day', sa.String(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('source', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], name=op.f('fk_expert_unavailability_expert_id_experts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_unavailability'))
    )
    with op.batch_alter_table('expert_unavailability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_unavailability_expert_id'), ['expert_id'], unique=False)

    op.create_table('links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('link_position', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_links_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['experts.id'], name=op.f('fk_links_member_id_experts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['township_id'], ['townships.id'], name=op.f('fk_links_township_id_townships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_links')),
    sa.UniqueConstraint('member_id', 'township_id', name=op.f('uq_links_member_id'))
    )
    with op.batch_alter_table('links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_links_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_links_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_links_township_id'), ['township_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_links_township_id'))
        batch_op.drop_index(batch_op.f('ix_links_member_id'))
        batch_op.drop_index(batch_op.f('ix_links_community_id'))

    op.drop_table('links')
    with op.batch_alter_table('expert_unavailability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_unavailability_expert_id'))

    op.drop_table('expert_unavailability')
    with op.batch_alter_table('expert_specialties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_specialties_specialty_id'))

    op.drop_table('expert_specialties')
    with op.batch_alter_table('township_closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_township_closures_township_id'))

    op.drop_table('township_closures')
    with op.batch_alter_table('roster_unmet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_unmet_version_id'))

    op.drop_table('roster_unmet')
    with op.batch_alter_table('roster_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_assignments_version_id'))
        batch_op.drop_index(batch_op.f('ix_roster_assignments_expert'))
        batch_op.drop_index(batch_op.f('ix_roster_assignments_assignment_id'))

    op.drop_table('roster_assignments')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experts_department_id'))
        batch_op.drop_index(batch_op.f('ix_experts_community_id'))

    op.drop_table('experts')
    with op.batch_alter_table('demand_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_rows_township_id'))
        batch_op.drop_index(batch_op.f('ix_demand_rows_specialty_id'))
        batch_op.drop_index(batch_op.f('ix_demand_rows_community_id'))

    op.drop_table('demand_rows')
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_townships_community_id'))

    op.drop_table('townships')
    with op.batch_alter_table('specialties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specialties_community_id'))

    op.drop_table('specialties')
    with op.batch_alter_table('roster_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_versions_community_id'))

    op.drop_table('roster_versions')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departments_community_id'))

    op.drop_table('departments')
    op.drop_table('communities')
