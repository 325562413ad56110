"""agency_names: each partner agency's name as surveys announces it (panel.agency_named)

Revision ID: f1c3a5e7b902
Revises: e6f2b8c4d913
Create Date: 2026-12-02 19:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f1c3a5e7b902"
down_revision: str | Sequence[str] | None = "e6f2b8c4d913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "agency_names",
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("agency"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("agency_names")
