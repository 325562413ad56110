"""Flask CLI commands of panel."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from services.panel.demo import synthetic_members
from services.panel.models import Member
from shared.db import new_session


def register(app: Flask) -> None:
    demo = AppGroup("demo", help="Demo data.")

    @demo.command("members")
    @click.option("--count", default=2000, show_default=True)
    @click.option("--seed", default=1, show_default=True)
    def members(count: int, seed: int):
        """Add synthetic members, unless the panel already has members."""
        with new_session() as session:
            existing = session.scalar(select(func.count()).select_from(Member))
            if existing:
                click.echo(f"panel already has {existing} members; none added")
                return
            session.add_all(synthetic_members(count, seed))
            session.commit()
        click.echo(f"added {count} synthetic members")

    app.cli.add_command(demo)
