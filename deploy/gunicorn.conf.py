"""Gunicorn settings for every civicpanel web process: `gunicorn -c deploy/gunicorn.conf.py
'services.<name>:create_app()'`. Everything is read from the environment."""

import os

# PORT is the service's port (5001 panel, 5002 surveys, 5003 feedback in local runs);
# BIND_HOST is 0.0.0.0 in containers and 127.0.0.1 in `make up`.
bind = [f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"

# A request that takes longer than this is stuck; the worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = 20
keepalive = 5

# Each worker builds the app itself, so no database connection is shared across a fork.
preload_app = False

# Logs to stdout/stderr, for honcho, docker and any process supervisor to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Heartbeat files on tmpfs: a container's overlay filesystem can stall them.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
