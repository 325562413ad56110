"""Flask CLI commands of panel: demo data, census margins and member imports."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from services.panel.demo import add_demo_members
from services.panel.imports import import_now
from services.panel.targets import TargetsInvalid, import_targets
from shared.db import new_session

DEMO_TARGETS = Path(__file__).resolve().parent / "data" / "demo_population_targets.csv"

demo = AppGroup("demo", help="Demo data.")
targets = AppGroup("targets", help="Population targets (census margins).")
members = AppGroup("members", help="Panel members.")


def register(app: Flask) -> None:
    for group in (demo, targets, members):
        app.cli.add_command(group)


def _echo_problems(problems: list[dict]) -> None:
    for problem in problems:
        click.echo(f"line {problem['line']}: {problem['field']}: {problem['reason']}", err=True)


@demo.command("members")
@click.option("--count", default=2000, show_default=True)
@click.option("--seed", default=1, show_default=True)
def demo_members(count: int, seed: int):
    """Add synthetic members, unless the panel already has members."""
    with new_session() as session:
        existing = add_demo_members(session, count=count, seed=seed)
    click.echo(f"panel already has {existing} members; none added" if existing
               else f"added {count} synthetic members")


@targets.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=DEMO_TARGETS)
def targets_import(path: Path):
    """Import census margins from a CSV (default: the demo file) and send them to surveys."""
    try:
        with new_session() as session:
            stored = import_targets(session, current_app.extensions["bus"],
                                    body=path.read_text(encoding="utf-8-sig"))
    except TargetsInvalid as exc:
        _echo_problems(exc.problems)
        raise SystemExit(1) from None
    click.echo(f"{stored['targets']} targets for {stored['areas']} areas ({stored['vintage']})")


@members.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", required=True)
def import_members(path: Path, agency: str):
    """Import an existing panel from CSV here and now, printing progress and bad rows."""
    with new_session() as session:
        run = import_now(session, agency=agency, filename=path.name,
                         body=path.read_text(encoding="utf-8-sig"),
                         allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"],
                         progress=lambda run: click.echo(f"{run.processed_rows}/{run.total_rows}"))
        _echo_problems(run.errors)
        click.echo(f"{run.status}: {run.added} added, {run.updated} updated, "
                   f"{len(run.errors)} problem(s)")
