"""report sponsors' names, commitment owners

Revision ID: a3d5e7f9b1c2
Revises: f5f081fbe219
Create Date: 2026-12-02 08:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'a3d5e7f9b1c2'
down_revision: str | Sequence[str] | None = 'f5f081fbe219'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('report_sponsors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True))
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_column('owner')
    with op.batch_alter_table('report_sponsors', schema=None) as batch_op:
        batch_op.drop_column('name')
