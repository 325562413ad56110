"""answers: no index of response_id alone; the unique (response_id, question_id) serves it

Every answer saved wrote four index entries; the unique constraint's index already leads with
response_id, so lookups and the cascade from responses use it, and the answer path writes
one index fewer per answer.

Revision ID: d8a4c2f6b913
Revises: b3f7d2e9c851
Create Date: 2026-12-02 18:20:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d8a4c2f6b913"
down_revision: str | Sequence[str] | None = "b3f7d2e9c851"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index("ix_answers_response_id", table_name="answers")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_answers_response_id", "answers", ["response_id"], unique=False)
