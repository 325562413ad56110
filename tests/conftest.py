"""Fixtures for every test: real databases (SQLite or PostgreSQL), a private Redis, the three
apps, fake external servers on loopback, and a pump that runs real RQ workers until quiet."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import text

from services import feedback, panel, surveys
from shared.db import upgrade_database
from shared.profile import parse_extra_attributes
from tests.fakes.redis_server import PrivateRedis
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.fakes.smtp_server import FakeSmtpServer
from tests.form_client import FormClient
from tests.pump import Pump

BACKEND = os.environ.get("CIVICPANEL_TEST_DATABASE", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get(
    "CIVICPANEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVICE_MODULES = {"panel": panel, "surveys": surveys, "feedback": feedback}


def pytest_report_header(config):
    return f"civicpanel database backend: {BACKEND}"


def pytest_configure(config):
    # Every app's test client, apps the tests build themselves included, posts forms as a
    # browser does: with their CSRF token.
    Flask.test_client_class = FormClient
    config.addinivalue_line("markers", "postgresql_only: needs PostgreSQL's concurrency")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgresql_only" in item.keywords and BACKEND != "postgresql":
            item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass"))


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A migrated database per service for this test session."""
    if BACKEND == "sqlite":
        folder = tmp_path_factory.mktemp("db")
        urls = {name: f"sqlite:///{folder / (name + '.db')}" for name in SERVICE_MODULES}
        created = []
    elif BACKEND == "postgresql":
        suffix = uuid.uuid4().hex[:8]
        created = [f"civicpanel_test_{name}_{suffix}" for name in SERVICE_MODULES]
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            for database in created:
                admin.execute(f'CREATE DATABASE "{database}"')
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://",
                                                             "postgresql+psycopg://")
        urls = {name: f"{base}/{db}" for name, db in zip(SERVICE_MODULES, created, strict=True)}
    else:
        raise pytest.UsageError(f"unknown CIVICPANEL_TEST_DATABASE {BACKEND!r}")
    for name, module in SERVICE_MODULES.items():
        upgrade_database(urls[name], module.MIGRATIONS_DIR)
    yield urls
    if created:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            for database in created:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[FakeSmtpServer]:
    server = FakeSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sms_gateway() -> Iterator[FakeSmsGateway]:
    gateway = FakeSmsGateway().start()
    yield gateway
    gateway.stop()


def service_config(name: str, database_urls, redis_url: str, smtp_server, sms_gateway) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_urls[name],
        "REDIS_URL": redis_url,
        "SURVEYS_URL": "http://surveys.test",
        "FEEDBACK_URL": "http://feedback.test",
        "PANEL_URL": "http://panel.test",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_STARTTLS": False,
        "SMS_GATEWAY_URL": sms_gateway.url,
        "SMS_ACCOUNT_SID": sms_gateway.account_sid,
        "SMS_AUTH_TOKEN": sms_gateway.auth_token,
        "SMS_FROM": "+447700900999",
        "DELIVERY_BATCH_SIZE": 50,
        # What a partnership might declare: a choice, a number and free text.
        "PROFILE_EXTRA_ATTRIBUTES": parse_extra_attributes(
            "carer=yes|no;household_size=integer;club=text"),
    }


@pytest.fixture(scope="session")
def apps(database_urls, redis_server, smtp_server, sms_gateway):
    """The three services, as their factories build them, bound to the test databases."""
    built = {
        name: module.create_app(
            service_config(name, database_urls, redis_server.url, smtp_server, sms_gateway))
        for name, module in SERVICE_MODULES.items()
    }
    yield built
    for app in built.values():
        app.extensions["database"].engine.dispose()


def empty_database(app) -> None:
    module = SERVICE_MODULES[app.config["SERVICE_NAME"]]
    tables = module.models.Base.metadata.sorted_tables
    engine = app.extensions["database"].engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # TRUNCATE makes new files for a table and each of its indexes: only the tables
            # a test wrote to, then every sequence back to 1 (RESTART IDENTITY, for all).
            written = connection.scalars(text(" UNION ALL ".join(
                f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"
                for t in tables))).all()
            if written:
                names = ", ".join(f'"{name}"' for name in written)
                connection.execute(text(f"TRUNCATE {names} CASCADE"))
            connection.execute(text(
                "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_slate(request):
    """Each test starts with empty databases, an empty private Redis and empty fake servers."""
    yield
    if "apps" in request.fixturenames:
        apps = request.getfixturevalue("apps")
        for app in apps.values():
            empty_database(app)
        Redis.from_url(request.getfixturevalue("redis_server").url).flushdb()
        request.getfixturevalue("smtp_server").clear()
        request.getfixturevalue("sms_gateway").clear()


@pytest.fixture
def panel_app(apps):
    return apps["panel"]


@pytest.fixture
def surveys_app(apps):
    return apps["surveys"]


@pytest.fixture
def feedback_app(apps):
    return apps["feedback"]


@pytest.fixture
def pump(apps, redis_server) -> Pump:
    return Pump(apps, Redis.from_url(redis_server.url))


@pytest.fixture
def clients(apps):
    return {name: app.test_client() for name, app in apps.items()}
