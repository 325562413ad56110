"""analysis: audit log, export jobs, analysis cells

Revision ID: a5e2c7d4b913
Revises: e1318ddba929
Create Date: 2026-11-28 17:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'a5e2c7d4b913'
down_revision: str | Sequence[str] | None = 'e1318ddba929'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('survey_ids', sa.JSON(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_agency'), ['agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('survey_ids', sa.JSON(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('form', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_agency'), ['agency'], unique=False)

    op.create_table('analysis_cells',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('age_band', sa.String(length=40), nullable=True),
    sa.Column('gender', sa.String(length=40), nullable=True),
    sa.Column('ethnicity', sa.String(length=40), nullable=True),
    sa.Column('disability', sa.String(length=40), nullable=True),
    sa.Column('area', sa.String(length=40), nullable=True),
    sa.Column('deprivation_decile', sa.String(length=40), nullable=True),
    sa.Column('tenure', sa.String(length=40), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analysis_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_cells_survey_id'), ['survey_id'],
                              unique=False)

    op.create_table('analysis_cells_built',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('last_response_id', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('analysis_cells_built')
    with op.batch_alter_table('analysis_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_cells_survey_id'))
    op.drop_table('analysis_cells')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_jobs_agency'))
    op.drop_table('export_jobs')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_agency'))
    op.drop_table('audit_log')
