"""reports' survey titles in other languages, respondents by channel

Revision ID: b7e2c4d6f8a1
Revises: a3d5e7f9b1c2
Create Date: 2026-12-02 11:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'b7e2c4d6f8a1'
down_revision: str | Sequence[str] | None = 'a3d5e7f9b1c2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_translations', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.add_column(sa.Column('respondent_channels', sa.JSON(), nullable=False,
                                      server_default='{}'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('respondent_channels')
        batch_op.drop_column('title_translations')
