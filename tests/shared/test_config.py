"""Settings come from the environment; an empty value means the default, a bad one fails fast."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, settings_from_env


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
