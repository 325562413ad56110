"""free_text_themes: theme runs over free-text answers, the themes as they stand, and the
analysts' edits kept as rules applied after each run

Revision ID: c3d9e5f7a126
Revises: b7f1d2e4c905
Create Date: 2026-12-02 11:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "c3d9e5f7a126"
down_revision: str | Sequence[str] | None = "b7f1d2e4c905"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _survey_and_question() -> list:
    return [sa.Column("survey_id", sa.Integer(),
                      sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False,
                      index=True),
            sa.Column("question_id", sa.Integer(),
                      sa.ForeignKey("questions.id", ondelete="CASCADE"), nullable=False)]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "theme_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_survey_and_question(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("found", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_survey_and_question(),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("theme_runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("answer_ids", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("weighted_share", sa.Float(), nullable=True),
        sa.Column("quote_ids", sa.JSON(), nullable=False),
    )
    op.create_table(
        "theme_edits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_survey_and_question(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    for table in ("theme_edits", "themes", "theme_runs"):
        op.drop_table(table)
