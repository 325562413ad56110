"""Settings come from the environment; an empty value means the default, a bad one fails fast."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, check_production_secrets, settings_from_env


def test_empty_values_as_left_by_an_env_file_fall_back_to_defaults():
    settings = settings_from_env("panel", {"MAIL_FROM": "", "RELAY_INTERVAL_SECONDS": "",
                                           "SMTP_PORT": "", "PANEL_URL": ""})
    assert settings["MAIL_FROM"].startswith("civicpanel")
    assert settings["RELAY_INTERVAL_SECONDS"] == 0.2
    assert settings["SMTP_PORT"] == 587
    assert settings["PANEL_URL"] == "http://127.0.0.1:5001"


def test_each_service_reads_its_own_database_url():
    env = {"PANEL_DATABASE_URL": "postgresql+psycopg://db/panel",
           "SURVEYS_DATABASE_URL": "postgresql+psycopg://db/surveys"}
    assert settings_from_env("panel", env)["DATABASE_URL"].endswith("/panel")
    assert settings_from_env("surveys", env)["DATABASE_URL"].endswith("/surveys")
    assert settings_from_env("feedback", env)["DATABASE_URL"].endswith("var/feedback.db")


@pytest.mark.parametrize("name", ["SMTP_PORT", "RELAY_INTERVAL_SECONDS", "SMTP_STARTTLS"])
def test_a_malformed_value_stops_the_service_with_its_name(name):
    with pytest.raises(ConfigError, match="not a"):
        settings_from_env("panel", {name: "lots"})


@pytest.mark.parametrize("name", ["Production", "prod", "PRODUCTION", "production "])
def test_an_unknown_environment_name_stops_the_service_rather_than_run_as_development(name):
    with pytest.raises(ConfigError, match="CIVICPANEL_ENV must be one of development, production"):
        settings_from_env("surveys", {"CIVICPANEL_ENV": name, "SECRET_KEY": "x" * 48})


def production(service: str, **env) -> dict:
    return settings_from_env(service, {"CIVICPANEL_ENV": "production", "SMS_ACCOUNT_SID": "AC1",
                                       "SMS_AUTH_TOKEN": "t" * 32, **env})


@pytest.mark.parametrize("secret", [" ", "   \t", "short-but-set", "x" * 31])
def test_production_refuses_a_blank_or_short_signing_key(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_production_secrets(production("feedback", SECRET_KEY=secret))


def test_production_starts_with_a_long_signing_key():
    check_production_secrets(production("panel", SECRET_KEY="k" * 32))


def test_a_blank_secret_is_refused_in_development_too():
    with pytest.raises(ConfigError, match="SECRET_KEY is blank"):
        check_production_secrets(settings_from_env("panel", {"SECRET_KEY": "  "}))


def test_a_service_configured_as_capitalised_production_does_not_start(monkeypatch):
    from services import panel

    monkeypatch.setenv("CIVICPANEL_ENV", "Production")
    with pytest.raises(ConfigError, match="CIVICPANEL_ENV"):
        panel.create_app({"DATABASE_URL": "sqlite://"})
