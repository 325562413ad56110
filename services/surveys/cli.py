"""Flask CLI commands of surveys: agencies, API keys and demo data."""

from __future__ import annotations

import time
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from services.surveys.demo import seed_demo, unanswered_demo_token
from services.surveys.keys import issue_key, revoke_key
from services.surveys.models import Agency
from shared.db import new_session
from shared.messages import ROLES
from shared.service import bus


def register(app: Flask) -> None:
    agencies = AppGroup("agencies", help="Partner agencies.")
    keys = AppGroup("keys", help="Agency API keys.")
    demo = AppGroup("demo", help="Demo data.")

    @agencies.command("create")
    @click.argument("slug")
    @click.option("--name", required=True)
    def create_agency(slug: str, name: str):
        """Add a partner agency."""
        with new_session() as session:
            if session.get(Agency, slug) is not None:
                raise click.ClickException(f"agency {slug} exists already")
            session.add(Agency(slug=slug, name=name))
            session.commit()
        click.echo(f"agency {slug} created")

    @keys.command("issue")
    @click.option("--agency", required=True)
    @click.option("--role", required=True, type=click.Choice(ROLES))
    @click.option("--label", default="")
    def issue(agency: str, role: str, label: str):
        """Issue an API key; it is printed now and never again."""
        with new_session() as session:
            try:
                key = issue_key(session, bus(), agency=agency, role=role, label=label)
            except LookupError as exc:
                raise click.ClickException(str(exc)) from None
            session.commit()
        click.echo(key)

    @keys.command("revoke")
    @click.argument("key_prefix")
    def revoke(key_prefix: str):
        """Revoke the keys starting with this prefix (as listed, e.g. cp_AbC123)."""
        with new_session() as session:
            count = revoke_key(session, bus(), key_prefix=key_prefix)
            session.commit()
        click.echo(f"revoked {count} key(s)")

    @demo.command("seed")
    def seed():
        """Three agencies, fresh demo keys, and a joint survey launched to the panel."""
        with new_session() as session:
            seeded = seed_demo(session, bus(), date.today())
        for who, key in seeded["keys"].items():
            click.echo(f"  {who:<22} {key}")
        click.echo(f"  demo survey id         {seeded['survey_id']}")

    @demo.command("link")
    @click.option("--wait", default=60, show_default=True, help="Seconds to wait for invitations.")
    def link(wait: int):
        """Print the link of an unanswered invitation of the demo survey, once it is drawn."""
        deadline = time.monotonic() + wait
        while True:
            with new_session() as session:
                token = unanswered_demo_token(session)
            if token or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not token:
            raise click.ClickException(
                "no unanswered invitation of the demo survey: are the workers running?")
        click.echo(f"{current_app.config['SURVEYS_URL']}/r/{token}")

    for group in (agencies, keys, demo):
        app.cli.add_command(group)
