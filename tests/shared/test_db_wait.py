"""`flask db wait`: what a pod runs before it starts, so no process of a new release runs on
a database its migration Job has not brought to the newest schema yet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services import panel
from shared.db import upgrade_database

ROOT = Path(__file__).resolve().parents[2]


def wait_command(database_url: str, redis_url: str, timeout: int) -> subprocess.Popen:
    environment = {**os.environ, "PANEL_DATABASE_URL": database_url, "REDIS_URL": redis_url,
                   "SECRET_KEY": "k" * 48, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "services.panel", "db", "wait", "--timeout",
         str(timeout)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def test_a_pod_waits_for_its_release_migration_then_starts(tmp_path, redis_server):
    url = f"sqlite:///{tmp_path / 'panel.db'}"
    early = wait_command(url, redis_server.url, timeout=1)
    output, _ = early.communicate(timeout=60)
    assert early.returncode == 1
    assert "panel: the database is not at the newest schema after 1 s" in output
    pod = wait_command(url, redis_server.url, timeout=60)
    try:
        said = [pod.stdout.readline()]  # Alembic's log lines, then the command's own
        while said[-1] and "panel: waiting for the database" not in said[-1]:
            said.append(pod.stdout.readline())
        assert said[-1].strip() == "panel: waiting for the database to reach the newest schema"
        upgrade_database(url, panel.MIGRATIONS_DIR)  # the release's migration Job, meanwhile
        output, _ = pod.communicate(timeout=90)
    finally:
        pod.kill()
        pod.wait()
    assert pod.returncode == 0, output
    assert output.strip().endswith("panel: database at the newest schema")
