"""Flask CLI commands every service has (`db upgrade`, `outbox relay`), and the session a
command works in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from shared.db import database_is_current, migration_config, new_session, upgrade_database
from shared.errors import RuleBroken


@contextmanager
def command_session() -> Iterator[Session]:
    """The session of one command; a rule that refuses it ends the command with the rule's
    reason (and the fields it names), as `flask` prints an error, not a traceback."""
    with new_session() as session:
        try:
            yield session
        except RuleBroken as refused:
            raise click.ClickException(
                f"{refused}: {refused.errors}" if refused.errors else str(refused)) from None


def register_common_commands(app: Flask, migrations_dir: Path) -> None:
    db_group = AppGroup("db", help="The service's database.")
    outbox_group = AppGroup("outbox", help="The service's outbox of messages to other services.")

    @db_group.command("upgrade")
    def upgrade():
        """Run the Alembic migrations up to the newest schema."""
        upgrade_database(current_app.config["DATABASE_URL"], migrations_dir)
        click.echo(f"{current_app.config['SERVICE_NAME']}: database at the newest schema")

    @db_group.command("wait")
    @click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait.")
    def wait(timeout: float):
        """Wait until the database is at the newest schema (a pod's start waits on the
        release's migration Job)."""
        name, url = current_app.config["SERVICE_NAME"], current_app.config["DATABASE_URL"]
        deadline, said = time.monotonic() + timeout, False
        while not database_is_current(url, migrations_dir):
            if not said:
                click.echo(f"{name}: waiting for the database to reach the newest schema",
                           err=True)
                said = True
            if time.monotonic() >= deadline:
                raise click.ClickException(
                    f"{name}: the database is not at the newest schema after {timeout:g} s; "
                    "has this release's migration run?")
            time.sleep(2)
        click.echo(f"{name}: database at the newest schema")

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def revision(message: str):
        """Write a new migration from the difference between the models and the database."""
        from alembic import command

        config = migration_config(migrations_dir, current_app.config["DATABASE_URL"])
        command.revision(config, message=message, autogenerate=True)

    @outbox_group.command("relay")
    @click.option("--once", is_flag=True, help="One pass, then stop.")
    def relay(once: bool):
        """Push pending outbox messages to Redis (workers do this on their own too)."""
        bus = current_app.extensions["bus"]
        while True:
            with new_session() as session:
                count = bus.relay(session)
            click.echo(f"relayed {count} message(s)")
            if once:
                return
            if count == 0:
                time.sleep(current_app.config["RELAY_INTERVAL_SECONDS"])

    app.cli.add_command(db_group)
    app.cli.add_command(outbox_group)
