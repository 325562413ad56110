"""The panel service: members and their personal data, consent, sampling and message delivery."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from shared.cli import register_common_commands
from shared.csrf import secret_link_form
from shared.service import ServiceModels, add_front_door, configure_service

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    from services.panel import api, cli, console_views, models, views
    from services.panel.console_views import CONSOLE_AREAS
    from services.panel.ratelimits import init_rate_limits

    app = Flask(__name__)
    flask_api = configure_service(
        app, "panel", ServiceModels(models.Outbox, models.Inbox, models.ApiKey), test_config
    )
    flask_api.register_blueprint(api.members_blp)
    flask_api.register_blueprint(api.deliveries_blp)
    for blueprint in (api.imports_blp, api.targets_blp, api.campaigns_blp,
                      api.representativeness_blp):
        flask_api.register_blueprint(blueprint)
    app.register_blueprint(views.pages)
    # RFC 8058: a mail provider's one-click POST carries no cookie and no form token; the
    # signed token in the address is the authority, as on surveys' answer form.
    secret_link_form(app, "pages.unsubscribe")
    app.register_blueprint(console_views.console)
    for blueprint in CONSOLE_AREAS:
        app.register_blueprint(blueprint)
    init_rate_limits(app)
    add_front_door(app, "pages.join")
    register_common_commands(app, MIGRATIONS_DIR)
    cli.register(app)
    return app
