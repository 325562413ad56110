"""The surveys service: agencies, surveys, invitations, responses and results."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from shared.cli import register_common_commands
from shared.service import ServiceModels, add_front_door, configure_service

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    from services.surveys import (
        admin_views,
        analysis_api,
        api,
        bank_views,
        builder_views,
        calendar_views,
        cli,
        console_views,
        export_views,
        models,
        overview_views,
        results_views,
        sign_in_views,
        themes_api,
        themes_views,
        views,
    )
    from services.surveys.oidc_sign_in import init_oidc_sign_in
    from services.surveys.ratelimits import init_rate_limits
    from shared.csrf import secret_link_form

    app = Flask(__name__)
    flask_api = configure_service(
        app, "surveys", ServiceModels(models.Outbox, models.Inbox, models.ApiKey), test_config
    )
    flask_api.register_blueprint(api.agencies_blp)
    flask_api.register_blueprint(api.surveys_blp)
    flask_api.register_blueprint(api.keys_blp)
    flask_api.register_blueprint(api.bank_blp)
    flask_api.register_blueprint(analysis_api.analysis_blp)
    flask_api.register_blueprint(themes_api.themes_blp)
    app.register_blueprint(views.pages)
    # The answer form's authority is the secret token in its address, not a cookie.
    secret_link_form(app, "pages.submit")
    app.register_blueprint(console_views.console)
    app.register_blueprint(calendar_views.calendar_pages)
    app.register_blueprint(builder_views.builder_pages)
    app.register_blueprint(bank_views.bank_pages)
    app.register_blueprint(sign_in_views.sign_in)
    app.register_blueprint(results_views.results_pages)
    app.register_blueprint(themes_views.theme_pages)
    app.register_blueprint(export_views.export_pages)
    init_oidc_sign_in(app)
    app.register_blueprint(overview_views.survey_pages)
    app.register_blueprint(admin_views.admin)
    init_rate_limits(app)
    add_front_door(app, "console.survey_list")
    register_common_commands(app, MIGRATIONS_DIR)
    cli.register(app)
    return app
