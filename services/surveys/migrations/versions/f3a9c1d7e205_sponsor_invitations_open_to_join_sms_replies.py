"""joint surveys by consent (invitations, open to join) and SMS replies read once

Revision ID: f3a9c1d7e205
Revises: a5e2c7d4b913
Create Date: 2026-12-01 22:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'f3a9c1d7e205'
down_revision: str | Sequence[str] | None = 'a5e2c7d4b913'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'sms_replies_received',
        sa.Column('provider_id', sa.String(length=64), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('provider_id'),
    )
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False,
                                      server_default='request'))
        batch_op.add_column(sa.Column('cost_share', sa.Numeric(5, 2), nullable=True))
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_to_join', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('open_to_join')
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.drop_column('cost_share')
        batch_op.drop_column('kind')
    op.drop_table('sms_replies_received')
