"""Flask CLI commands of feedback: its reports, and its periodic work run by hand."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from services.feedback.accountability import days_overdue, is_overdue
from services.feedback.jobs import flag_overdue, send_progress_news
from services.feedback.models import Report
from shared.bus import utcnow
from shared.db import new_session

reports = AppGroup("reports", help='"You said, we did" reports.')


def register(app: Flask) -> None:
    app.cli.add_command(reports)


@reports.command("list")
def list_reports():
    """Every report, newest first: status, and days overdue for publication."""
    now, allowed = utcnow(), current_app.config["FEEDBACK_OVERDUE_DAYS"]
    with new_session() as session:
        found = session.scalars(select(Report).order_by(Report.id.desc())).all()
    if not found:
        click.echo("no reports yet: one is drafted when a survey closes")
    for report in found:
        late = (f", {days_overdue(report.closed_at, now, allowed)} day(s) overdue"
                if is_overdue(report.status, report.closed_at, now, allowed) else "")
        click.echo(f"{report.id:>5}  {report.status:<9}  {report.title}{late}")


@reports.command("flag-overdue")
def run_flag_overdue():
    """Flag overdue reports to their sponsors now (the worker does it daily)."""
    click.echo(f"{flag_overdue()} overdue flag(s) raised or renewed")


@reports.command("send-progress")
def run_send_progress():
    """Tell respondents of news on commitments now (the worker does it hourly)."""
    click.echo(f"{send_progress_news()} member(s) told of progress")
