"""What every service's create_app() shares: settings, database, bus, API, health, errors."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import (
    Flask,
    current_app,
    has_request_context,
    jsonify,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_smorest import Api
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import db
from shared.api_doc import CommonErrorResponses
from shared.bus import Bus
from shared.config import check_production_secrets, settings_from_env
from shared.console import init_console
from shared.csrf import init_csrf
from shared.errors import register_error_handlers
from shared.input_guard import DatabaseIntegerConverter, init_input_guard, integer_path_parameter
from shared.public_path import init_public_path
from shared.security_headers import init_security_headers

SHARED_DIR = Path(__file__).resolve().parent
# Shared files are addressed with a hash of their content (shared_asset), so a browser may
# keep them a year and still never runs an old script after a release.
SHARED_STATIC_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class ServiceModels:
    outbox: type
    inbox: type
    api_key: type


def configure_service(
    app: Flask, service: str, models: ServiceModels, test_config: dict | None
) -> Api:
    """Load settings, bind the database and Redis, and mount the JSON API and /healthz."""
    app.config.from_mapping(settings_from_env(service))
    if test_config:
        app.config.update(test_config)
    check_production_secrets(app.config)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    init_public_path(app)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = f"development-only-{service}"
    app.config.update(
        API_TITLE=f"civicpanel {service}",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {service} %(levelname)s %(message)s"
    )

    db.init_app(app)
    redis = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
    app.extensions["redis"] = redis
    app.extensions["bus"] = Bus(models.outbox, models.inbox, redis)
    app.extensions["api_key_model"] = models.api_key
    app.jinja_loader.searchpath.append(str(SHARED_DIR / "templates"))  # type: ignore[union-attr]
    init_input_guard(app)
    init_security_headers(app)
    init_csrf(app)
    init_console(app)
    app.add_url_rule(
        "/shared-static/<path:filename>", "shared_static", _shared_static, methods=["GET"]
    )
    app.jinja_env.globals.update(shared_asset=shared_asset, public_url=public_url)

    api = Api(app, spec_kwargs={"extra_plugins": [CommonErrorResponses(app)],
                                "components": {"securitySchemes": {
                                    "apiKey": {"type": "http", "scheme": "bearer"}}}})
    api.register_converter(DatabaseIntegerConverter, integer_path_parameter)
    register_error_handlers(app)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.jinja_env.globals["service_urls"] = {
        "panel": app.config["PANEL_URL"],
        "surveys": app.config["SURVEYS_URL"],
        "feedback": app.config["FEEDBACK_URL"],
    }
    return api


def _shared_static(filename: str):
    return send_from_directory(SHARED_DIR / "static", filename, max_age=SHARED_STATIC_MAX_AGE)


@cache
def _content_hash(filename: str) -> str:
    return hashlib.sha256((SHARED_DIR / "static" / filename).read_bytes()).hexdigest()[:12]


def shared_asset(filename: str) -> str:
    """The address of a file under shared/static, changing whenever its content does."""
    return url_for("shared_static", filename=filename, v=_content_hash(filename))


def public_url(endpoint: str, **values) -> str:
    """An absolute link to one of this service's pages from its configured public address
    (PANEL_URL, SURVEYS_URL, FEEDBACK_URL), never from the Host header a request sent."""
    base = current_app.config[f"{current_app.config['SERVICE_NAME'].upper()}_URL"]
    # url_for's path already starts with the public path when a request came in under it.
    root = request.script_root if has_request_context() else ""
    return base.rstrip("/") + url_for(endpoint, **values)[len(root):]


def add_front_door(app: Flask, endpoint: str) -> None:
    """`/` leads to the service's main page, at its public address: someone who types only
    the host name (or the service's path, under one host) lands somewhere, not on "not found"."""
    app.add_url_rule("/", "front_door", lambda: redirect(public_url(endpoint)))


def _healthz():
    checks = {}
    try:
        with current_app.extensions["database"].engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means the database is down
        checks["database"] = f"down: {exc.__class__.__name__}"
    try:
        current_app.extensions["redis"].ping()
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"down: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body = {"service": current_app.config["SERVICE_NAME"], "status": "ok" if healthy else "down",
            "checks": checks}
    return jsonify(body), 200 if healthy else 503


def bus() -> Bus:
    return current_app.extensions["bus"]
