"""Flask CLI commands of surveys: agencies, API keys and demo data."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from services.surveys import keys as agency_keys
from services.surveys import staff_users
from services.surveys.demo import demo_sign_ins, seed_demo, wait_for_demo_token
from services.surveys.role_rules import RoleRules
from shared.audit import Actor
from shared.cli import command_session
from shared.console import staff_sessions
from shared.db import new_session
from shared.messages import ROLES
from shared.service import bus

agencies = AppGroup("agencies", help="Partner agencies.")
keys = AppGroup("keys", help="Agency API keys.")
demo = AppGroup("demo", help="Demo data.")
users = AppGroup("users", help="Staff users of the console.")


def register(app: Flask) -> None:
    for group in (agencies, keys, demo, users):
        app.cli.add_command(group)


@agencies.command("create")
@click.argument("slug")
@click.option("--name", required=True)
def create_agency(slug: str, name: str):
    """Add a partner agency."""
    with new_session() as session:
        try:
            agency_keys.add_agency(session, bus(), slug=slug, name=name)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"agency {slug} created")


@agencies.command("announce")
def announce_agencies():
    """Tell panel every agency's name again, so its pages name them."""
    with new_session() as session:
        slugs = agency_keys.announce_every_agency(session, bus())
    click.echo(f"announced {len(slugs)} agencies to panel: {', '.join(slugs) or 'none'}")


@keys.command("issue")
@click.option("--agency", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--label", default="")
def issue(agency: str, role: str, label: str):
    """Issue an API key; it is printed now and never again."""
    with new_session() as session:
        try:
            row = agency_keys.issue(session, bus(), RoleRules.from_config(current_app.config),
                                    Actor.command_line(), agency=agency, role=role, label=label)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(row.key)


@keys.command("revoke")
@click.argument("key_prefix")
def revoke(key_prefix: str):
    """Revoke the keys starting with this prefix (as listed, e.g. cp_AbC123)."""
    with new_session() as session:
        count = agency_keys.revoke(session, bus(), Actor.command_line(), key_prefix=key_prefix)
    click.echo(f"revoked {count} key(s)")


@demo.command("seed")
def seed():
    """Three agencies, fresh demo keys, demo staff, and a joint survey launched to the panel."""
    with new_session() as session:
        seeded = seed_demo(session, bus(), date.today())
    for who, key in seeded["keys"].items():
        click.echo(f"  {who:<22} {key}")
    click.echo(f"  demo survey id         {seeded['survey_id']}")


@demo.command("link")
@click.option("--wait", default=60, show_default=True, help="Seconds to wait for invitations.")
def link(wait: int):
    """Print the link of an unanswered invitation of the demo survey, once it is drawn."""
    token = wait_for_demo_token(wait)
    if not token:
        raise click.ClickException(
            "no unanswered invitation of the demo survey: are the workers running?")
    click.echo(f"{current_app.config['SURVEYS_URL']}/r/{token}")


@demo.command("sign-in-links")
def print_demo_sign_in_links():
    """Print who each demo member of staff is, and a link (once, 15 minutes) signing them in."""
    with new_session() as session:
        sign_ins = demo_sign_ins(
            session, staff_users.SignInSettings.from_config(current_app.config))
    for who in sign_ins:
        click.echo(f"  {who.name}, {who.role}, {who.agency_name} ({who.email})\n"
                   f"    {who.link}")


@users.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--agency", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
def add_user(email: str, name: str, agency: str, role: str):
    """Add a staff user who can sign in to the console."""
    with command_session() as session:
        user = staff_users.add_staff_user(session, RoleRules.from_config(current_app.config),
                                          email=email, name=name, agency=agency, role=role)
    click.echo(f"staff user {user.email} added")


@users.command("sign-in-link")
@click.argument("email")
def print_sign_in_link(email: str):
    """Print a single-use link (15 minutes) that signs this active staff user in."""
    with command_session() as session:
        user = staff_users.user_for_sign_in_link(session, email)
        click.echo(staff_users.sign_in_link(
            user, staff_users.SignInSettings.from_config(current_app.config)))


@users.command("invite")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--agency", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
def invite(email: str, name: str, agency: str, role: str):
    """Add a staff user and email them a sign-in link (sent by panel's worker)."""
    settings = staff_users.SignInSettings.from_config(current_app.config)
    with command_session() as session:
        user = staff_users.invite_user(session, bus(), settings,
                                       RoleRules.from_config(current_app.config),
                                       Actor.command_line(), email=email, name=name, role=role,
                                       agency=agency)
    click.echo(f"staff user {user.email} invited")


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email: str, role: str):
    """Give a staff user another role; their sessions end."""
    with command_session() as session:
        user = staff_users.change_role(session, staff_sessions(),
                                       RoleRules.from_config(current_app.config),
                                       Actor.command_line(), who=email, role=role)
    click.echo(f"staff user {user.email} is now {user.role}")


@users.command("disable")
@click.argument("email")
def disable(email: str):
    """Disable a staff user: no more sign-ins, and every session of theirs ends now."""
    with command_session() as session:
        user = staff_users.disable_user(session, staff_sessions(), Actor.command_line(),
                                        who=email)
    click.echo(f"staff user {user.email} disabled")


@users.command("enable")
@click.argument("email")
def enable(email: str):
    """Let a disabled staff user sign in again."""
    with command_session() as session:
        user = staff_users.enable_user(session, Actor.command_line(), who=email)
    click.echo(f"staff user {user.email} enabled")
