"""The console's themes pages: an analyst or officer finds and steers the themes of a survey's
free-text answers from the overview, with the same roles and agency rules as the API."""

from __future__ import annotations

import re

from tests.staff import add_staff, sign_in
from tests.surveys.test_console_launch import text
from tests.surveys.test_themes import answered_survey


def signed_in(apps, clients, role: str, agency: str = "council") -> None:
    email = f"{role}@{agency}.example"
    add_staff(apps, email=email, agency=agency, role=role)
    sign_in(apps, clients, email)


def test_an_analyst_finds_themes_and_reads_them_beside_their_chart(apps, clients, pump):
    survey_id, _ = answered_survey(apps, clients, pump)
    signed_in(apps, clients, "analyst")
    overview = clients["surveys"].get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert f'href="/surveys/{survey_id}/themes/comments"' in overview
    page = clients["surveys"].get(f"/surveys/{survey_id}/themes/comments")
    assert page.status_code == 200 and "Find the themes" in text(page)
    started = clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/run")
    assert started.status_code == 303
    assert "Finding the themes: 0% done" in text(clients["surveys"].get(started.location))
    pump()
    page = clients["surveys"].get(f"/surveys/{survey_id}/themes/comments")
    words = text(page)
    assert "Found in 100 answers" in words
    html = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html and 'id="themes"' in html
    assert "Share of answers by theme" in html and "In their words" in words


def test_steering_from_the_pages_and_a_bad_merge_names_the_field(apps, clients, pump):
    survey_id, _ = answered_survey(apps, clients, pump)
    signed_in(apps, clients, "officer")
    clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/run")
    pump()
    page = clients["surveys"].get(f"/surveys/{survey_id}/themes/comments").get_data(
        as_text=True)
    theme_ids = re.findall(rf'/surveys/{survey_id}/themes/comments/(\d+)"', page)
    assert len(theme_ids) >= 4
    refused = clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/edit",
                                      data={"kind": "merge", "theme_ids": theme_ids[:1]})
    assert refused.status_code == 422
    assert "There is a problem Choose two or more themes to merge." in text(refused)
    odd = clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/edit", data={
        "kind": "merge", "theme_ids": [theme_ids[0], "²", "9" * 30], "answer_id": "²"})
    assert odd.status_code == 422  # ids no theme has are left out, never a server error
    assert "Choose two or more themes to merge." in text(odd)
    renamed = clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/edit", data={
        "kind": "rename", "theme_ids": theme_ids[0], "label": "Safer streets at night"})
    assert renamed.status_code == 303
    after = clients["surveys"].get(renamed.location)
    assert "Theme renamed." in text(after) and "Safer streets at night" in text(after)
    merged = clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/edit", data={
        "kind": "merge", "theme_ids": theme_ids[1:3]})
    assert merged.status_code == 303
    page = clients["surveys"].get(merged.location).get_data(as_text=True)
    assert len(re.findall(rf'/surveys/{survey_id}/themes/comments/(\d+)"', page)) == \
        len(theme_ids) - 1
    first = re.findall(rf'/surveys/{survey_id}/themes/comments/(\d+)"', page)[0]
    theme = clients["surveys"].get(f"/surveys/{survey_id}/themes/comments/{first}")
    assert theme.status_code == 200 and "Move to" in text(theme) and "Do not quote" in text(theme)


def test_other_roles_and_agencies_are_kept_out_as_the_api_keeps_them(apps, clients, pump):
    survey_id, _ = answered_survey(apps, clients, pump, count=10)
    signed_in(apps, clients, "admin")
    assert clients["surveys"].get(f"/surveys/{survey_id}/themes/comments").status_code == 403
    overview = clients["surveys"].get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert "/themes/comments" not in overview  # no link to a page the role cannot open
    signed_in(apps, clients, "analyst", agency="police")
    assert clients["surveys"].get(f"/surveys/{survey_id}/themes/comments").status_code == 404
    assert clients["surveys"].post(f"/surveys/{survey_id}/themes/comments/run").status_code \
        == 404
