"""axe-core (bundled by axe-playwright-python) run over a page a browser test has open: WCAG 2.2
A and AA. A page with any violation fails its test, naming each rule, its help and the elements
that break it; every page checked is counted, and the count is printed at the end of the run."""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.base import AXE_SCRIPT

PHONE_WIDTH = 375
# Pages of contexts with JavaScript switched off: axe runs in a copy of them (see _copy).
NO_JS_PAGES: weakref.WeakSet = weakref.WeakSet()
# Set to a folder to keep a screenshot of every page checked, at each width, to look at.
SCREENSHOTS = os.environ.get("CIVICPANEL_SCREENSHOTS")
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}


@dataclass
class AxeTally:
    """Pages checked in this test run, and the violations found on them."""

    pages: list[str] = field(default_factory=list)
    runs: int = 0
    violations: int = 0

    def summary(self) -> str:
        return (f"axe-core: {len(self.pages)} pages, {self.violations} violations "
                f"(WCAG 2.2 AA, {self.runs} runs at desktop and {PHONE_WIDTH} px width)")


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}: {node.get('failureSummary', '')}"
                         .replace("\n", " "))
    return "\n".join(lines)


class AxeChecker:
    def __init__(self, tally: AxeTally):
        self._tally = tally

    def check(self, page, label: str = "") -> None:
        """Run axe over the page as it is now, at its own width and at a phone's; fail the test
        if it breaks any WCAG 2.2 A or AA rule at either."""
        self._tally.pages.append(label or page.url)
        if page in NO_JS_PAGES:
            copy = self._copy(page)
            try:
                self._check(copy, label or page.url)
            finally:
                copy.context.close()
        else:
            self._check(page, label or page.url)

    @staticmethod
    def _copy(page):
        """The page's document, as its browser holds it, served at its own address to a page
        that runs script (axe is script), with the same stylesheets from the same server."""
        html, url = page.content(), page.url
        context = page.context.browser.new_context(viewport=page.viewport_size)
        copy = context.new_page()
        copy.route(lambda address: address == url, lambda route: route.fulfill(
            status=200, body=html, content_type="text/html; charset=utf-8"))
        copy.goto(url)
        return copy

    def _check(self, page, label: str) -> None:
        desktop = page.viewport_size
        try:
            self._run(page, label, desktop["width"] if desktop else "default")
            page.set_viewport_size({"width": PHONE_WIDTH, "height": 812})
            self._run(page, label, PHONE_WIDTH)
        finally:
            if desktop:
                page.set_viewport_size(desktop)

    def _run(self, page, label: str, width) -> None:
        if SCREENSHOTS:
            name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
            page.screenshot(path=os.path.join(SCREENSHOTS, f"{len(self._tally.pages):02d}-"
                                              f"{name}-{width}.png"), full_page=True)
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(AXE_SCRIPT)
        violations = page.evaluate("options => axe.run(document, options)", OPTIONS)["violations"]
        self._tally.runs += 1
        self._tally.violations += len(violations)
        if violations:
            where = f"{label or page.url} at {width} px"
            pytest.fail(f"axe-core found {len(violations)} WCAG 2.2 AA violations on {where}:\n"
                        + describe(violations), pytrace=False)
