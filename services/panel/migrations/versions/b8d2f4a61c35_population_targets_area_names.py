"""population_targets: the name of each area, as the census file gives it

Revision ID: b8d2f4a61c35
Revises: b8d2f4a6c913
Create Date: 2026-12-01 22:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b8d2f4a61c35"
down_revision: str | Sequence[str] | None = "b8d2f4a6c913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("population_targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("population_targets", schema=None) as batch_op:
        batch_op.drop_column("area_name")
