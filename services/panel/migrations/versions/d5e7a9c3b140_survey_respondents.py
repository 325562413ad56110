"""survey_respondents: who answered each closed survey, for representativeness pages

Revision ID: d5e7a9c3b140
Revises: d5e1a7c94b20
Create Date: 2026-12-02 11:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "d5e7a9c3b140"
down_revision: str | Sequence[str] | None = "d5e1a7c94b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "survey_respondents",
        sa.Column("survey_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sponsors", sa.JSON(), nullable=False),
        sa.Column("sponsor_names", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member_refs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("survey_respondents")
