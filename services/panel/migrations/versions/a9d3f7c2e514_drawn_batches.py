"""drawn_batches: a draw's batches kept with its reservation, told to surveys one by one

Revision ID: a9d3f7c2e514
Revises: f1c3a5e7b902
Create Date: 2026-12-02 22:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "a9d3f7c2e514"
down_revision: str | Sequence[str] | None = "f1c3a5e7b902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "drawn_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("draw_key", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.String(length=64), nullable=True),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("shortfall", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("kept_at", shared.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draw_key", "number", name="uq_drawn_batches_number"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("drawn_batches")
