"""draw_pool: the drawable members and their cap state, kept by triggers on members

Revision ID: d5e1a7c94b20
Revises: b8d2f4a61c35
Create Date: 2026-12-02 10:50:00.000000

A draw reads only this narrow table (four integers and a time per member, the profile behind
a number in draw_profiles), never the wide members rows. Triggers on members keep it, so no
write can forget it: a member is in draw_pool exactly while active, consenting to surveys
and not opted out, with the profile and the cap state (last_contacted_at as a day,
cap_free_at) of their members row. PostgreSQL's triggers are per statement, over the
statement's changed rows at once (a draw's cap update or an import is one set-based
statement, not a trigger call per member); SQLite's are per row.

On SQLite a batch ALTER of members (Alembic's copy-and-move) drops the table's triggers: a
later migration that batch-alters members must create them again (TRIGGERS_SQLITE below);
tests/panel/test_draw_pool.py fails if they are missing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "d5e1a7c94b20"
down_revision: str | Sequence[str] | None = "b8d2f4a61c35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROFILE = ("preferred_channel", "age_band", "gender", "ethnicity", "disability", "area",
           "deprivation_decile", "tenure")
# What a draw's rules read of a member: a change to any of these refreshes their pool row.
WATCHED = ("status", "consent_surveys", "opted_out_at", "last_contacted_at", "cap_free_at",
           *PROFILE)


def _key(row: str, text_cast: str) -> str:
    """One text per distinct profile ('~' for a missing decile or tenure, which no valid
    value is), so the same profile is one draw_profiles row."""
    parts = [f"{row}.{c}" for c in PROFILE[:6]]
    parts += [f"coalesce(CAST({row}.deprivation_decile AS {text_cast}), '~')",
              f"coalesce({row}.tenure, '~')"]
    return " || '|' || ".join(parts)


def _drawable(row: str) -> str:
    return f"({row}.status = 'active' AND {row}.consent_surveys AND {row}.opted_out_at IS NULL)"


PG_DAY = ("coalesce(CAST(({row}.last_contacted_at AT TIME ZONE 'UTC') AS date)"
          " - DATE '1970-01-01', 0)")
SQLITE_DAY = ("coalesce(CAST(julianday(date({row}.last_contacted_at)) - 2440587.5 AS INTEGER),"
              " 0)")


def _pg_refresh(source: str, where: str) -> str:
    """Add the profiles and upsert the pool rows of the drawable members (n) in `source`."""
    columns = ", ".join(PROFILE)
    values = ", ".join(f"n.{c}" for c in PROFILE)
    return f"""
        INSERT INTO draw_profiles (key, {columns})
        SELECT DISTINCT {_key('n', 'text')}, {values} FROM {source}
        WHERE {where} AND {_drawable('n')}
        ON CONFLICT (key) DO NOTHING;
        INSERT INTO draw_pool (member_id, profile_id, last_day, cap_free_at)
        SELECT n.id, d.id, {PG_DAY.format(row='n')}, n.cap_free_at
        FROM {source} JOIN draw_profiles d ON d.key = {_key('n', 'text')}
        WHERE {where} AND {_drawable('n')}
        ON CONFLICT (member_id) DO UPDATE SET profile_id = excluded.profile_id,
            last_day = excluded.last_day, cap_free_at = excluded.cap_free_at;"""


def _pg_function() -> str:
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in WATCHED)
    return f"""
    CREATE FUNCTION draw_pool_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_pg_refresh("new_members n", "true")}
        ELSE
            DELETE FROM draw_pool p USING new_members n
            WHERE p.member_id = n.id AND {_drawable('n')} IS NOT TRUE;
            {_pg_refresh("new_members n JOIN old_members o ON o.id = n.id", f"({changed})")}
        END IF;
        RETURN NULL;
    END $$"""


def _pg_rebuild() -> str:
    """draw_pool_rebuild(): the pool made again from members (the migration's backfill, and
    for a bulk load done with triggers off)."""
    return f"""
    CREATE FUNCTION draw_pool_rebuild() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM draw_pool;
        {_pg_refresh("members n", "true")}
    END $$"""


TRIGGERS_PG = (
    "CREATE TRIGGER members_draw_pool_insert AFTER INSERT ON members "
    "REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION draw_pool_sync()",
    "CREATE TRIGGER members_draw_pool_update AFTER UPDATE ON members "
    "REFERENCING OLD TABLE AS old_members NEW TABLE AS new_members "
    "FOR EACH STATEMENT EXECUTE FUNCTION draw_pool_sync()",
)


def _sqlite_refresh(row: str) -> str:
    columns = ", ".join(PROFILE)
    values = ", ".join(f"{row}.{c}" for c in PROFILE)
    return f"""
        INSERT OR IGNORE INTO draw_profiles (key, {columns})
        SELECT {_key(row, 'TEXT')}, {values} WHERE {_drawable(row)};
        INSERT OR REPLACE INTO draw_pool (member_id, profile_id, last_day, cap_free_at)
        SELECT {row}.id, (SELECT id FROM draw_profiles WHERE key = {_key(row, 'TEXT')}),
               {SQLITE_DAY.format(row=row)}, {row}.cap_free_at
        WHERE {_drawable(row)};"""


TRIGGERS_SQLITE = (
    f"CREATE TRIGGER members_draw_pool_insert AFTER INSERT ON members BEGIN"
    f"{_sqlite_refresh('NEW')} END",
    f"CREATE TRIGGER members_draw_pool_update AFTER UPDATE OF {', '.join(WATCHED)} ON members "
    f"BEGIN DELETE FROM draw_pool WHERE member_id = OLD.id;{_sqlite_refresh('NEW')} END",
)


def _sqlite_rebuild() -> list[str]:
    columns = ", ".join(PROFILE)
    values = ", ".join(f"m.{c}" for c in PROFILE)
    return [
        f"INSERT OR IGNORE INTO draw_profiles (key, {columns}) "
        f"SELECT DISTINCT {_key('m', 'TEXT')}, {values} FROM members m WHERE {_drawable('m')}",
        f"INSERT INTO draw_pool (member_id, profile_id, last_day, cap_free_at) "
        f"SELECT m.id, d.id, {SQLITE_DAY.format(row='m')}, m.cap_free_at FROM members m "
        f"JOIN draw_profiles d ON d.key = {_key('m', 'TEXT')} WHERE {_drawable('m')}",
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "draw_profiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("preferred_channel", sa.String(length=10), nullable=False),
        sa.Column("age_band", sa.String(length=10), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("ethnicity", sa.String(length=20), nullable=False),
        sa.Column("disability", sa.String(length=20), nullable=False),
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("deprivation_decile", sa.Integer(), nullable=True),
        sa.Column("tenure", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_draw_profiles_key"),
    )
    op.create_table(
        "draw_pool",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.Column("cap_free_at", shared.db.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["draw_profiles.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    # Nothing reads members by cap_free_at any more (draws read draw_pool): without the index
    # a draw's cap update changes no indexed column, and on PostgreSQL, with room left on each
    # page (fillfactor), it can be a heap-only update instead of nine index insertions a row.
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_cap_free_at")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE members SET (fillfactor = 90)")
        op.execute("ALTER TABLE draw_pool SET (fillfactor = 90)")
        op.execute(_pg_function())
        op.execute(_pg_rebuild())
        for statement in TRIGGERS_PG:
            op.execute(statement)
        op.execute("SELECT draw_pool_rebuild()")
    else:
        for statement in (*TRIGGERS_SQLITE, *_sqlite_rebuild()):
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TRIGGER IF EXISTS members_draw_pool_update" +
               (" ON members" if op.get_bind().dialect.name == "postgresql" else ""))
    op.execute("DROP TRIGGER IF EXISTS members_draw_pool_insert" +
               (" ON members" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS draw_pool_sync()")
        op.execute("DROP FUNCTION IF EXISTS draw_pool_rebuild()")
    op.drop_table("draw_pool")
    op.drop_table("draw_profiles")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE members RESET (fillfactor)")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_cap_free_at", ["cap_free_at"], unique=False)
