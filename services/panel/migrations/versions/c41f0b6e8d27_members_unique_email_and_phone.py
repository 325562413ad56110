"""members: email and phone unique in the database, not only checked before an insert

Revision ID: c41f0b6e8d27
Revises: a7c3e2d91b04
Create Date: 2026-11-30 10:10:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c41f0b6e8d27"
down_revision: str | Sequence[str] | None = "a7c3e2d91b04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_email")
        batch_op.drop_index("ix_members_phone")
        batch_op.create_index("ix_members_email", ["email"], unique=True)
        batch_op.create_index("ix_members_phone", ["phone"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_phone")
        batch_op.drop_index("ix_members_email")
        batch_op.create_index("ix_members_phone", ["phone"], unique=False)
        batch_op.create_index("ix_members_email", ["email"], unique=False)
