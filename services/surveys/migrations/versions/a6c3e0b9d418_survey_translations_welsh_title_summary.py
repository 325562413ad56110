"""survey_translations: a survey's own title and summary in other languages (Welsh)

Revision ID: a6c3e0b9d418
Revises: d4c1e8a9f052
Create Date: 2026-12-09 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a6c3e0b9d418"
down_revision: str | Sequence[str] | None = "d4c1e8a9f052"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=False,
                                      server_default="{}"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_column("translations")
