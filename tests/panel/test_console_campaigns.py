"""Campaigns in the console: started by a form with the API's rules, each with its join link
and SMS keyword, its report in words (yield in the target group against everyone who joined,
cost per recruit) as charts beside their tables, and a poster for A4 whose QR code, read by a
decoder, is the join link."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

import numpy as np
import segno
import zxingcpp
from werkzeug.datastructures import MultiDict

from tests.panel.factories import make_members
from tests.panel.test_console_members import manager_signed_in, named_wards, page
from tests.panel.test_targets import confirm_all
from tests.staff import add_staff, sign_in


def start(clients, **fields):
    form = MultiDict()  # the client adds the form's CSRF token
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            form.add(name, one)
    return clients["panel"].post("/panel/campaigns/new", data=form)


def join(clients, code: str, count: int, age: str, start_at: int = 0) -> None:
    for index in range(start_at, start_at + count):
        answer = clients["panel"].post(f"/join?c={code}", data={
            "preferred_channel": "email", "email": f"j{index}@example.org", "age_band": age,
            "gender": "female", "ethnicity": "white", "disability": "not_disabled",
            "area": "E05001001", "consent_surveys": "yes", "campaign": code})
        assert answer.status_code == 303


def qr_text(data_uri: str) -> tuple[str, str]:
    """What a QR decoder reads in the SVG of a data: address, drawn as a scanner sees it; and
    the SVG itself."""
    header, _, body = data_uri.partition(",")
    svg = base64.b64decode(body).decode() if header.endswith(";base64") else unquote(body)
    size = int(re.search(r"viewBox=['\"]0 0 (\d+) (\d+)", svg).group(1))
    dark = np.zeros((size, size), dtype=bool)
    path = re.search(r"class=['\"]qrline['\"][^>]* d=['\"]([^'\"]+)", svg).group(1)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmhv])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        elif command == "h":
            dark[int(y), int(x):int(x + float(a))] = True
            x += float(a)
    picture = np.kron(np.where(dark, 0, 255).astype(np.uint8), np.ones((8, 8), np.uint8))
    return [found.text for found in zxingcpp.read_barcodes(picture)][0], svg


def test_a_campaign_is_started_and_its_page_shows_its_link_keyword_and_report(apps, clients,
                                                                             pump):
    manager_signed_in(apps, clients, pump)
    named_wards(apps)
    form = page(clients, "/panel/campaigns/new")
    assert 'name="csrf_token"' in form and "Riverside Central" in form and "16 to 24" in form
    answer = start(clients, name="Young voices", code="young1",
                   **{"group-age_band": ["16-24", "25-34"], "group-area": "E05001001"},
                   cost="£1,200.00")
    assert answer.status_code == 303
    join(clients, "YOUNG1", 3, "16-24")
    join(clients, "YOUNG1", 1, "55-64", start_at=3)
    pump()
    confirm_all(apps, clients)
    make_members(apps["panel"], 4, start=50, age_band="75+")
    html = page(clients, answer.headers["Location"])
    assert "The campaign is started" in html
    assert "/join?c=YOUNG1</a>" in html and "<strong>JOIN YOUNG1</strong>" in html
    assert "<strong>Age</strong>: 16 to 24, 25 to 34<br><strong>Ward</strong>: Riverside " \
           "Central" in html and "E05001001" not in html
    assert "4 recruits on the panel, 3 of them in the target group" in html
    yields = html.split('id="yield"')[1].split("</table>")[0]
    assert re.findall(r"numeric\">([^<]+)</td>", yields) == ["75.0%", "37.5%"]
    costs = html.split('id="cost"')[1].split("</table>")[0]
    assert re.findall(r"numeric\">([^<]+)</td>", costs) == ["£300.00", "£400.00"]
    charts = re.findall(r'<img class="app-chart" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(charts) == 2
    share, cost = (base64.b64decode(c).decode() for c in charts)
    assert "Share in the target group" in share and "75.0%" in share and "37.5%" in share
    assert "£300.00" in cost and "£400.00" in cost and "<script" not in share + cost

    listing = page(clients, "/panel/campaigns")
    assert ">Young voices</a>" in listing and "JOIN YOUNG1" in listing
    assert re.search(r"numeric\">4</td>", listing)


def test_the_poster_is_a4_and_its_qr_code_reads_as_the_join_link(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    answer = start(clients, name="Library drive", code="READ24")
    poster = page(clients, answer.headers["Location"].split("?")[0] + "/poster")
    link = re.search(r'<p class="app-poster__link">([^<]+)</p>', poster).group(1)
    assert link.endswith("/join?c=READ24") and "<strong>JOIN READ24</strong>" in poster
    uri = re.search(r'<img class="app-poster__qr" id="qr" src="([^"]+)"', poster).group(1)
    text, svg = qr_text(uri)
    assert text == link
    assert segno.make(link, error="m").symbol_size(scale=1, border=4)[0] == \
        int(re.search(r"viewBox=['\"]0 0 (\d+)", svg).group(1))
    address = re.search(r'href="([^"]*poster\.css[^"]*)"', poster).group(1)
    with clients["panel"].get(address) as css:
        assert b"@page { size: A4 portrait" in css.data and b".app-no-print" in css.data


def test_the_form_refuses_what_the_api_refuses_field_by_field(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    refused = start(clients, name="", code="no", cost="lots",
                    **{"group-age_band": "12-15"})
    assert refused.status_code == 400
    html = refused.data.decode()
    assert html.count('class="govuk-error-message"') == 4
    summary = re.findall(r'<li><a href="#([\w-]+)">([^<]+)</a>', html)
    assert summary == [
        ("name", "Enter a name for the campaign."),
        ("code", "Code: Use 3 to 12 capital letters or digits."),
        ("group-age_band", "Age: Must be one of: 16-24, 25-34, 35-44, 45-54, 55-64, 65-74, 75+."),
        ("cost", "Enter what the campaign costs in pounds, like 250 or 1200.50.")]
    assert "<title>Error: Start a campaign" in html and 'value="lots"' in html
    assert start(clients, name="First", code="TAKEN1").status_code == 303
    taken = start(clients, name="Second", code="TAKEN1")
    assert taken.status_code == 409 and '<a href="#code">Code: That code is taken.' in \
        taken.data.decode()


def test_campaigns_are_the_agencys_own_and_for_panel_managers(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    campaign = start(clients, name="Council drive", code="COUNC1").headers["Location"].split("?")[0]
    add_staff(apps, email="pm@police.example", agency="police", role="panel_manager")
    sign_in(apps, clients, "pm@police.example")
    missing = clients["panel"].get("/panel/campaigns/999999")
    other = clients["panel"].get(campaign)
    assert other.status_code == missing.status_code == 404
    assert other.data.replace(b"999999", b"") == missing.data.replace(b"999999", b"")
    assert "Council drive" not in page(clients, "/panel/campaigns")
    page(clients, campaign + "/poster", status=404)
    add_staff(apps, email="admin@council.example", agency="council", role="admin")
    sign_in(apps, clients, "admin@council.example")
    page(clients, "/panel/campaigns", status=403)
