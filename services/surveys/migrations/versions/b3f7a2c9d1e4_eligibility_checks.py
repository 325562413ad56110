"""eligibility_checks: pre-launch questions to panel and its counts per quota cell

Revision ID: b3f7a2c9d1e4
Revises: a6c3e0b9d418
Create Date: 2026-12-02 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b3f7a2c9d1e4"
down_revision: str | Sequence[str] | None = "a6c3e0b9d418"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "eligibility_checks",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cells", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index(op.f("ix_eligibility_checks_survey_id"), "eligibility_checks",
                    ["survey_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_eligibility_checks_survey_id"), table_name="eligibility_checks")
    op.drop_table("eligibility_checks")
