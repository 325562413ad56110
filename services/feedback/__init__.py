"""The feedback service: "you said, we did" reports, published and told to every respondent."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from shared.cli import register_common_commands
from shared.service import ServiceModels, add_front_door, configure_service

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    from services.feedback import api, cli, console_views, models, report_views, views

    app = Flask(__name__)
    flask_api = configure_service(
        app, "feedback", ServiceModels(models.Outbox, models.Inbox, models.ApiKey), test_config
    )
    flask_api.register_blueprint(api.reports_blp)
    flask_api.register_blueprint(api.accountability_blp)
    flask_api.register_blueprint(api.public_blp)
    app.register_blueprint(views.pages)
    app.register_blueprint(console_views.console)
    app.register_blueprint(report_views.report_pages)
    add_front_door(app, "pages.report_list")
    register_common_commands(app, MIGRATIONS_DIR)
    cli.register(app)
    return app
