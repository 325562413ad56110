"""area_contact_caps: panel's per-area counts of members resting under the contact cap

Revision ID: d4c1e8a9f052
Revises: b8d2f4a61c37
Create Date: 2026-12-02 08:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d4c1e8a9f052"
down_revision: str | Sequence[str] | None = "b8d2f4a61c37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "area_contact_caps",
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("at_cap", sa.Integer(), nullable=False),
        sa.Column("next_free_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("all_free_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("area"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("area_contact_caps")
