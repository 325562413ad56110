"""inbound_sms: each inbound SMS is acted on once, by its provider id

Revision ID: b8d2f4a6c913
Revises: c41f0b6e8d27
Create Date: 2026-12-01 22:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b8d2f4a6c913"
down_revision: str | Sequence[str] | None = "c41f0b6e8d27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "inbound_sms",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("inbound_sms")
