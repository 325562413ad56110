"""Joint surveys, question bank, fieldwork and SMS dialogue

Revision ID: e1318ddba929
Revises: d17656e6b761
Create Date: 2026-11-28 16:39:20.081542

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'e1318ddba929'
down_revision: str | Sequence[str] | None = 'd17656e6b761'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema; existing rows get the defaults a new survey would have."""
    op.create_table('question_bank',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency'], ['agencies.slug'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('join_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency'], ['agencies.slug'], ),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_requests_agency'), ['agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_requests_survey_id'), ['survey_id'], unique=False)

    op.create_table('saved_answers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invitation_id', 'question_id')
    )
    with op.batch_alter_table('saved_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_answers_invitation_id'), ['invitation_id'],
                              unique=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=False,
                                      server_default='en'))
        batch_op.add_column(sa.Column('draw_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminders_sent', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('dialogue_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('dialogue_misses', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('dialogue_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_value', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_value', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('show_if', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.add_column(sa.Column('module_agency', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('bank_code', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_questions_bank_code'), ['bank_code'], unique=False)

    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('areas', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('topics', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('fieldwork_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('fieldwork_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('target_completes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quotas', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('channels', sa.JSON(), nullable=False,
                                      server_default='["web", "sms_link"]'))
        batch_op.add_column(sa.Column('reminder_days', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False,
                                      server_default='["en"]'))
        batch_op.add_column(sa.Column('top_ups', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_index(batch_op.f('ix_surveys_fieldwork_end'), ['fieldwork_end'],
                              unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    """Downgrade schema."""
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_fieldwork_end'))
        batch_op.drop_column('top_ups')
        batch_op.drop_column('languages')
        batch_op.drop_column('reminder_days')
        batch_op.drop_column('channels')
        batch_op.drop_column('quotas')
        batch_op.drop_column('target_completes')
        batch_op.drop_column('fieldwork_end')
        batch_op.drop_column('fieldwork_start')
        batch_op.drop_column('topics')
        batch_op.drop_column('areas')

    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_bank_code'))
        batch_op.drop_column('bank_code')
        batch_op.drop_column('module_agency')
        batch_op.drop_column('translations')
        batch_op.drop_column('show_if')
        batch_op.drop_column('max_value')
        batch_op.drop_column('min_value')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('dialogue_at')
        batch_op.drop_column('dialogue_misses')
        batch_op.drop_column('dialogue_code')
        batch_op.drop_column('reminders_sent')
        batch_op.drop_column('started_at')
        batch_op.drop_column('draw_id')
        batch_op.drop_column('language')

    with op.batch_alter_table('saved_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_answers_invitation_id'))

    op.drop_table('saved_answers')
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_requests_survey_id'))
        batch_op.drop_index(batch_op.f('ix_join_requests_agency'))

    op.drop_table('join_requests')
    op.drop_table('question_bank')
    # ### end Alembic commands ###
