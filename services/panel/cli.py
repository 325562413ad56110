"""Flask CLI commands of panel."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from services.panel.demo import synthetic_members
from services.panel.imports import run_import
from services.panel.models import Member, MemberImport
from services.panel.targets import TargetsInvalid, import_targets, parse_targets
from shared.db import new_session

DEMO_TARGETS = Path(__file__).resolve().parent / "data" / "demo_population_targets.csv"


def register(app: Flask) -> None:
    demo = AppGroup("demo", help="Demo data.")
    targets = AppGroup("targets", help="Population targets (census margins).")
    members = AppGroup("members", help="Panel members.")

    @demo.command("members")
    @click.option("--count", default=2000, show_default=True)
    @click.option("--seed", default=1, show_default=True)
    def demo_members(count: int, seed: int):
        """Add synthetic members, unless the panel already has members."""
        with new_session() as session:
            existing = session.scalar(select(func.count()).select_from(Member))
            if existing:
                click.echo(f"panel already has {existing} members; none added")
                return
            session.add_all(synthetic_members(count, seed))
            session.commit()
        click.echo(f"added {count} synthetic members")

    @targets.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                    default=DEMO_TARGETS)
    def targets_import(path: Path):
        """Import census margins from a CSV (default: the demo file) and send them to surveys."""
        try:
            population = parse_targets(path.read_text(encoding="utf-8-sig"))
        except TargetsInvalid as exc:
            for error in exc.errors:
                click.echo(f"line {error['line']}: {error['field']}: {error['reason']}", err=True)
            raise SystemExit(1) from None
        with new_session() as session:
            stored = import_targets(session, current_app.extensions["bus"], population)
            session.commit()
        click.echo(f"{stored} targets for {len(population.areas)} areas ({population.vintage})")

    @members.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--agency", required=True)
    def import_members(path: Path, agency: str):
        """Import an existing panel from CSV here and now, printing progress and bad rows."""
        with new_session() as session:
            run = MemberImport(agency=agency, filename=path.name,
                               body=path.read_text(encoding="utf-8-sig"))
            session.add(run)
            session.commit()
            run_import(session, run, allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"],
                       progress=lambda: click.echo(f"{run.processed_rows}/{run.total_rows}"))
            for error in run.errors:
                click.echo(f"line {error['line']}: {error['field']}: {error['reason']}", err=True)
            click.echo(f"{run.status}: {run.added} added, {run.updated} updated, "
                       f"{len(run.errors)} problem(s)")

    app.cli.add_command(demo)
    app.cli.add_command(targets)
    app.cli.add_command(members)
