"""deliveries: which outcomes surveys has not been told yet

Revision ID: e6f2b8c4d913
Revises: d5e7a9c3b140
Create Date: 2026-12-02 11:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e6f2b8c4d913"
down_revision: str | Sequence[str] | None = "d5e7a9c3b140"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        # Every outcome so far was reported in the commit that recorded it.
        batch_op.add_column(sa.Column("unreported", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_index("ix_deliveries_unreported", "deliveries", ["batch_id"], unique=False,
                    postgresql_where=sa.text("unreported"), sqlite_where=sa.text("unreported"))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_deliveries_unreported", table_name="deliveries",
                  postgresql_where=sa.text("unreported"), sqlite_where=sa.text("unreported"))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("unreported")
