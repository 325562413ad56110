"""Real worker processes for the end-to-end tests, and waiting on what they do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker

from tests.waiting import wait_for


@pytest.fixture
def workers(database_urls, redis_server, smtp_server, tmp_path):
    """Starts real worker processes, each in a session of its own (with its scheduler), panel's
    mail going to the fake SMTP server; stops them at the end."""
    env = {**os.environ, "REDIS_URL": redis_server.url, "RELAY_INTERVAL_SECONDS": "0.1",
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port),
           "SMTP_STARTTLS": "false", "FEEDBACK_URL": "http://feedback.test",
           "SURVEYS_URL": "http://surveys.test", "PANEL_URL": "http://panel.test"}
    env.update({f"{name.upper()}_DATABASE_URL": url for name, url in database_urls.items()})
    env.pop("SMS_GATEWAY_URL", None)
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(*args: str, registered: bool = True) -> subprocess.Popen:
        log_path = tmp_path / f"worker-{len(started)}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "shared.worker", "panel", *args],
                                       env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        started.append((process, log_path))
        if registered:
            redis = Redis.from_url(redis_server.url)
            wait_for(lambda: any(w.pid == process.pid for w in Worker.all(connection=redis)))
        return process

    start.log = lambda process: next(p for q, p in started if q is process).read_text()
    yield start
    for process, _ in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, log_path in started:
        try:
            returncode = process.wait(timeout=30)
        finally:
            kill_group(process)
        assert returncode in (0, -signal.SIGKILL), log_path.read_text()[-3000:]


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


