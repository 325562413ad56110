"""A real browser (Debian's Chromium driven by Playwright) and the services served over HTTP."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.browser.axe import NO_JS_PAGES, AxeChecker, AxeTally

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


_AXE_TALLY = pytest.StashKey[AxeTally]()


def _tally(config) -> AxeTally:
    """One tally per test run, kept on pytest's config for the summary at the end."""
    if _AXE_TALLY not in config.stash:
        config.stash[_AXE_TALLY] = AxeTally()
    return config.stash[_AXE_TALLY]


@pytest.fixture
def axe(request) -> AxeChecker:
    """`axe.check(page)`: WCAG 2.2 AA checks of the page as it is now; any violation fails."""
    return AxeChecker(_tally(request.config))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _AXE_TALLY in config.stash:
        terminalreporter.write_line(config.stash[_AXE_TALLY].summary())


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser):
    """A page of a browser with JavaScript switched off, as some citizens have it."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    NO_JS_PAGES.add(page)
    yield page
    context.close()


class LiveServer:
    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def live_panel(panel_app) -> Iterator[LiveServer]:
    server = LiveServer(panel_app)
    yield server
    server.stop()


@pytest.fixture
def live_surveys(surveys_app) -> Iterator[LiveServer]:
    server = LiveServer(surveys_app)
    yield server
    server.stop()


@pytest.fixture
def live_feedback(feedback_app) -> Iterator[LiveServer]:
    server = LiveServer(feedback_app)
    yield server
    server.stop()
