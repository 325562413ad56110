"""The three services behind one address, routed as deploy/kubernetes/'s Ingress routes them: a
path per service (Prefix, passed on unchanged), the paths read from the rendered example
overlay, and each service's public address that host and its path. A member of staff signs in
once and works across all three services in a real browser; every link of every page they see
stays under a routed path, so nothing leads to an address the Ingress would not serve."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from shared.staff import COOKIE_NAME
from tests.deploy.manifests import EXAMPLE, Rendered, render
from tests.scenario import bearer, setup_agencies, survey_payload
from tests.staff import add_staff, link_for

SERVICES = ("panel", "surveys", "feedback")


class Ingress:
    """One host: a request goes, as it is, to the service of the first rule that takes its
    path: an Exact rule that path only, a Prefix rule whole segments under it (Kubernetes'
    `pathType`); anything else is not found."""

    def __init__(self, rules: list[tuple[str, str, object]]):
        self.rules = rules

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for kind, prefix, app in self.rules:
            if path == prefix or (kind == "Prefix" and path.startswith(prefix + "/")):
                return app(environ, start_response)
        return Response("not routed", status=404)(environ, start_response)


@pytest.fixture
def one_host(apps, monkeypatch) -> Iterator[dict[str, str]]:
    [ingress] = Rendered(render(EXAMPLE)).of_kind("Ingress")
    [rule] = ingress["spec"]["rules"]
    rules = [(p["pathType"], p["path"], apps[p["backend"]["service"]["name"]])
             for p in rule["http"]["paths"]]
    paths = {p["backend"]["service"]["name"]: p["path"] for p in rule["http"]["paths"]
             if p["pathType"] == "Prefix"}
    server = make_server("127.0.0.1", 0, Ingress(rules), threaded=True)
    origin = f"http://127.0.0.1:{server.server_port}"
    urls = {name: origin + paths[name] for name in SERVICES}
    for app in apps.values():
        for name, url in urls.items():
            monkeypatch.setitem(app.config, f"{name.upper()}_URL", url)
        monkeypatch.setitem(app.jinja_env.globals, "service_urls", urls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield urls
    server.shutdown()


def links_on(page) -> list[str]:
    return page.eval_on_selector_all("a[href], form[action], link[href], script[src]",
                                     "els => els.map(e => e.href || e.action || e.src)")


def test_staff_work_across_the_three_services_under_one_host(apps, pump, clients, one_host,
                                                              page, axe):
    keys = setup_agencies(apps, pump)
    made = clients["surveys"].post("/api/v1/surveys", json=survey_payload(),
                                   headers=bearer(keys["council"]["officer"]))
    assert made.status_code == 201, made.json
    add_staff(apps, email="ada.admin@council.example", agency="council", role="admin",
              name="Ada Admin")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(one_host["surveys"]))
    routed = tuple(urlsplit(url).path for url in one_host.values())
    seen_links: set[str] = set()

    # Panel's staff page sends a stranger to surveys' sign-in, under surveys' path.
    page.goto(f"{one_host['panel']}/panel")
    assert page.url.startswith(f"{one_host['surveys']}/sign-in?next=")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    axe.check(page, "sign in, under one host")
    seen_links.update(links_on(page))

    link = link_for(apps, "ada.admin@council.example")
    assert link.startswith("/surveys/sign-in/")
    page.goto(origin + link)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{one_host['surveys']}/surveys")
    expect(page.get_by_role("banner").get_by_text("Ada Admin, Riverside Council")).to_be_visible()
    seen_links.update(links_on(page))
    page.get_by_role("link", name="Feeling safe in the town centre", exact=True).click()
    page.wait_for_url(f"{one_host['surveys']}/surveys/*")
    expect(page.get_by_role("heading", name="Feeling safe in the town centre")).to_be_visible()
    seen_links.update(links_on(page))
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["path"] == "/"

    navigation = page.get_by_role("navigation", name="Menu")
    navigation.get_by_role("link", name="Panel").click()
    page.wait_for_url(f"{one_host['panel']}/panel")
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()
    expect(page.get_by_role("banner").get_by_text("Ada Admin, Riverside Council")).to_be_visible()
    axe.check(page, "panel, under one host")
    seen_links.update(links_on(page))

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Feedback").click()
    page.wait_for_url(f"{one_host['feedback']}/reports")
    expect(page.get_by_role("heading", name="Feedback reports")).to_be_visible()
    axe.check(page, "feedback reports, under one host")
    seen_links.update(links_on(page))

    # Signing out from feedback ends the session in every service.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{one_host['surveys']}/sign-in?signed_out=1")
    page.goto(f"{one_host['panel']}/panel")
    assert page.url.startswith(f"{one_host['surveys']}/sign-in?next=")

    # The public pages too, where the host name alone leads; the Atom feed names itself and
    # the list at their public addresses.
    page.goto(origin)
    page.wait_for_url(f"{one_host['feedback']}/you-said-we-did")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe.check(page, "you said, we did, under one host")
    seen_links.update(links_on(page))
    feed = page.request.get(f"{one_host['feedback']}/you-said-we-did/feed.atom").text()
    assert f"<id>{one_host['feedback']}/you-said-we-did/feed.atom</id>" in feed
    assert f'href="{one_host["feedback"]}/you-said-we-did"' in feed

    # Stylesheets, scripts, navigation and forms all stay under a routed path of this host.
    assert seen_links
    for address in seen_links:
        parts = urlsplit(address)
        assert f"{parts.scheme}://{parts.netloc}" == origin, address
        assert parts.path.startswith(tuple(f"{p}/" for p in routed)), address

