"""export_jobs: who asked (a staff member's email) and the dimensions the file is weighted by

Revision ID: b3f7d2e9c851
Revises: c3d9e5f7a126
Create Date: 2026-12-02 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b3f7d2e9c851"
down_revision: str | Sequence[str] | None = "c3d9e5f7a126"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=320), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("dimensions", sa.JSON(), nullable=False,
                                      server_default="[]"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_column("dimensions")
        batch_op.drop_column("actor")
