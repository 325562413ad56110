"""Each service answers under the path of its own public address, as one host name serves all
three (deployed: https://host/panel, /surveys, /feedback, routed by the Ingress without
rewriting; locally each has a port of its own and the path is empty).

A request whose path starts with that prefix has it moved from PATH_INFO to SCRIPT_NAME, so the
views see their own routes and every `url_for` link carries the prefix. Anything else is served
as it is: the kubelet's probes ask for /healthz straight at the pod.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask


@lru_cache(maxsize=16)
def path_prefix(public_url: str) -> str:
    """The path of a public address, without its trailing slash: '' for a bare origin."""
    return urlsplit(public_url).path.rstrip("/")


class PublicPath:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        config = self.app.config
        prefix = path_prefix(config[f"{config['SERVICE_NAME'].upper()}_URL"])
        path = environ.get("PATH_INFO", "")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix):]
        return self.wsgi_app(environ, start_response)


def init_public_path(app: Flask) -> None:
    app.wsgi_app = PublicPath(app, app.wsgi_app)
