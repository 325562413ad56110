"""A service whose public address has a path answers its pages under that path, over HTTP, with
links that carry it; other paths are served as they are (the kubelet's /healthz), and a path
that merely begins with the same letters is not taken for it."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import LiveServer


@pytest.fixture
def panel_under_a_path(panel_app, monkeypatch):
    monkeypatch.setitem(panel_app.config, "PANEL_URL", "https://civicpanel.example.org/panel")
    server = LiveServer(panel_app)
    yield server
    server.stop()


def test_pages_answer_under_the_public_path_with_links_that_carry_it(panel_under_a_path):
    base = panel_under_a_path.url
    join = requests.get(f"{base}/panel/join", timeout=10)
    assert join.status_code == 200
    assert 'action="/panel/join"' in join.text
    stylesheets = re.findall(r'<link[^>]+href="([^"]+)"', join.text)
    assert stylesheets and all(href.startswith("/panel/") for href in stylesheets)
    assert requests.get(base + stylesheets[0], timeout=10).status_code == 200

    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["checks"]["database"] == "ok"
    assert requests.get(f"{base}/panel/healthz", timeout=10).status_code == 200

    assert requests.get(f"{base}/panelling/join", timeout=10).status_code == 404


def test_a_form_offered_back_to_send_again_goes_to_its_address_under_the_public_path(
        panel_under_a_path):
    base = panel_under_a_path.url
    # The join form, posted from its own page by a browser that did not keep the cookie.
    stale = requests.post(f"{base}/panel/join", data={"email": "ada@example.org"},
                          headers={"Origin": base}, timeout=10)
    assert stale.status_code == 400 and "Send again" in stale.text
    assert 'action="/panel/join"' in stale.text
