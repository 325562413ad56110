"""Database engines, sessions and Alembic migrations: one database per service."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import (
    JSON,
    DateTime,
    Table,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class UtcDateTime(TypeDecorator):
    """A moment in time, always UTC and timezone-aware on the way in and out.

    PostgreSQL keeps `timestamptz`; SQLite keeps text without an offset and hands back naive
    datetimes. Every value is converted to UTC before it is stored and comes back aware, so
    no code compares a naive time with an aware one, on either database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored as a moment: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# PostgreSQL's default random_page_cost (4) prices a random read as a disk seek. On SSDs or
# a database held in memory it is near a sequential one, and with the default the planner
# reads all 100,000 members (or invitations) to find the 1,000 of one batch by their refs or
# ids: 22 ms instead of 5 for a batch's members, 37 instead of 7 for a batch's update by id.
POSTGRES_SESSION_OPTIONS = "-c random_page_cost=1.1"


def make_engine(url: str, pre_ping: bool = True, autocommit: bool = False) -> Engine:
    """The engine of a database URL; `autocommit` for one whose connections are outside any
    transaction from the start (set once a connection, not at every checkout)."""
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver hook
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, far fewer fsyncs
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=pre_ping, pool_size=5, max_overflow=10,
                               connect_args={"options": POSTGRES_SESSION_OPTIONS}, **options)
    # A forked child (RQ's scheduler) must open its own connections, never reuse the parent's
    # (SQLite forbids carrying a connection across fork as much as PostgreSQL's protocol does).
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


class Database:
    """The engine and session factory of one service."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # For single statements that may run twice (autocommit_statement): outside any
        # transaction, with no pre-ping.
        self.autocommit = make_engine(url, pre_ping=False, autocommit=True)


def init_app(app: Flask) -> Database:
    database = Database(app.config["DATABASE_URL"])
    app.extensions["database"] = database

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return database


def get_session() -> Session:
    """The session of the current request or job, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["database"].sessions()
    return g.db_session


def autocommit_statement(statement: Callable[[Connection], T]) -> T:
    """Run one statement that is atomic by itself on a connection outside any transaction
    (no BEGIN and COMMIT round trips) and without the pool's pre-ping (one more round trip).

    A pooled connection that died since its last use fails with a disconnect error; the pool
    then drops its connections and the statement runs once more on a new one. The statement
    must be safe to run twice: if the first run reached the database after all, the second
    must fail as a duplicate (the answer path's unique invitation) or change nothing.
    """
    engine = current_app.extensions["database"].autocommit
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                return statement(connection)
        except DBAPIError as failure:
            if attempt == 2 or not failure.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def among(session: Session, column, values: list):
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter rather than a
    thousand, which spares the driver and the server parsing them for every chunk."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Many rows into one table in the session's transaction, every row with the same keys:
    PostgreSQL's COPY (several times faster than INSERT for the big fan-outs), else one
    executemany INSERT. Columns a row leaves out get their Python-side defaults."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    defaults = {column.name: _default_of(column) for column in table.columns
                if column.name not in rows[0] and column.default is not None
                and not column.primary_key}
    names = [*rows[0], *defaults]
    columns = ", ".join(f'"{name}"' for name in names)
    json_columns = {column.name for column in table.columns if isinstance(column.type, JSON)}
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = {**row, **defaults}
            copy.write_row([json.dumps(values[name]) if name in json_columns else values[name]
                            for name in names])


def insert_rows_with_ids(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """Like insert_rows, and the new ids in the rows' order: on PostgreSQL the ids are taken
    from the table's sequence first, so the rows can still go in by COPY."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        result = session.connection().execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
        return [row[0] for row in result]
    ids = list(session.scalars(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)}))
    insert_rows(session, table, [{"id": new_id, **row} for new_id, row in zip(ids, rows,
                                                                               strict=True)])
    return ids


def update_rows(session: Session, table: Table, rows: list[dict], key: str = "id",
                **same: object) -> None:
    """Each row's own values (and the values `same` for all of them) into the table's row
    with its key, in the session's transaction, every row with the same keys: on PostgreSQL
    one statement whatever their number (the values as arrays, unnested side by side), else
    one executemany UPDATE."""
    if not rows:
        return
    connection = session.connection()
    names = [name for name in rows[0] if name != key]
    if connection.dialect.name != "postgresql":
        statement = table.update().where(table.c[key] == bindparam(f"_{key}")).values(
            **{name: bindparam(f"_{name}") for name in names}, **same)
        connection.execute(statement, [{f"_{name}": value for name, value in row.items()}
                                       for row in rows])
        return
    columns = [key, *names]
    arrays = ", ".join(
        f"CAST(:_{name} AS {table.c[name].type.compile(dialect=connection.dialect)}[])"
        for name in columns)
    assignments = [f'"{name}" = v."{name}"' for name in names]
    assignments += [f'"{name}" = :{name}' for name in same]
    statement = text(
        f'UPDATE "{table.name}" SET {", ".join(assignments)} FROM unnest({arrays}) AS '
        f'v({", ".join(f"{chr(34)}{name}{chr(34)}" for name in columns)}) '
        f'WHERE "{table.name}"."{key}" = v."{key}"'
    ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in same))
    connection.execute(statement, {**{f"_{name}": [row[name] for row in rows]
                                      for name in columns}, **same})


def _default_of(column):
    default = column.default
    return default.arg(None) if default.is_callable else default.arg


def migration_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, migrations_dir: Path, revision: str = "head") -> None:
    """Bring a service's database to the newest schema by running its Alembic migrations."""
    engine = make_engine(url)
    try:
        config = migration_config(migrations_dir, url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def database_is_current(url: str, migrations_dir: Path) -> bool:
    """Whether the database is at the newest revision of the service's migrations (False
    while a migration has not run, or the database cannot be reached yet)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(migration_config(migrations_dir, url)).get_heads())
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) == heads
    except OperationalError:
        return False
    finally:
        engine.dispose()


def run_migrations(context, metadata) -> None:
    """The body of every service's Alembic env.py: migrate the connection we were handed."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _migrate(context, connection, metadata)
        engine.dispose()
    else:
        _migrate(context, connection, metadata)


def _migrate(context, connection, metadata) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def page_of(session: Session, statement, pagination_parameters) -> list:
    """One page of a select() for flask-smorest's @paginate, with the total item count set."""
    pagination_parameters.item_count = session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    size = pagination_parameters.page_size
    offset = (pagination_parameters.page - 1) * size
    if offset >= pagination_parameters.item_count:  # past the end, e.g. ?page=10**30
        return []
    return list(session.scalars(statement.offset(offset).limit(size)))


def new_session() -> Session:
    """A session of its own, for a job or a relay pass; the caller closes it."""
    return current_app.extensions["database"].sessions()
