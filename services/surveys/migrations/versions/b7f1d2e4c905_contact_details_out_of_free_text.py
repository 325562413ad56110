"""contact details out of free text: existing free-text answers (sent and kept for later)
have their email addresses, phone numbers, postcodes and web links replaced by placeholders

Revision ID: b7f1d2e4c905
Revises: b3f7a2c9d1e4
Create Date: 2026-12-02 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.free_text import remove_contact_details

# revision identifiers, used by Alembic.
revision: str = "b7f1d2e4c905"
down_revision: str | Sequence[str] | None = "b3f7a2c9d1e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The placeholders as they were written when this ran (English: a migration must not change
# with the catalogue).
PLACEHOLDERS = {
    "email": "[email address removed]",
    "link": "[web link removed]",
    "phone": "[phone number removed]",
    "postcode": "[postcode removed]",
}
BATCH = 1000


def _clean(connection, table: str) -> None:
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("value", sa.Text),
                    sa.column("question_id", sa.Integer))
    questions = sa.table("questions", sa.column("id", sa.Integer), sa.column("type", sa.String))
    free = sa.select(questions.c.id).where(questions.c.type == "free_text")
    last = 0
    while True:
        batch = connection.execute(
            sa.select(rows.c.id, rows.c.value)
            .where(rows.c.question_id.in_(free), rows.c.id > last, rows.c.value.is_not(None))
            .order_by(rows.c.id).limit(BATCH)).all()
        if not batch:
            return
        last = batch[-1].id
        changed = [{"row_id": row.id, "cleaned": cleaned.text} for row in batch
                   if (cleaned := remove_contact_details(row.value, PLACEHOLDERS)).count]
        if changed:
            connection.execute(rows.update().where(rows.c.id == sa.bindparam("row_id"))
                               .values(value=sa.bindparam("cleaned")), changed)


def upgrade() -> None:
    """Clean the free-text answers already stored."""
    connection = op.get_bind()
    for table in ("answers", "saved_answers"):
        _clean(connection, table)


def downgrade() -> None:
    """Nothing to undo: what was removed is gone, as it must be."""
