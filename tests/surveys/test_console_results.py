"""The analyst's console pages: weighting co-sponsored surveys together, tables with intervals
and small cells hidden, bank question trends, exports built by the worker and downloaded, by
the analysis API's rules (its roles, and only surveys the agency sponsors)."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from sqlalchemy import select

from services.surveys.models import AuditLog
from shared.db import new_session
from tests.staff import add_staff, sign_in
from tests.surveys.test_analysis import OPTIONS, agency_keys, seed_survey, seed_targets

ANALYST = "ana.analyst@council.example"


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, with its caption."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "caption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None

    def handle_data(self, data):
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return {t["caption"]: t["rows"] for t in parser.tables}


def charts_of(html: str) -> list[str]:
    """The SVG of every chart on the page."""
    return [base64.b64decode(src).decode() for src in
            re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]


def signed_in(apps, clients, role="analyst", agency="council", email=ANALYST) -> dict:
    keys = agency_keys(apps["surveys"])
    add_staff(apps, email=email, agency=agency, role=role)
    sign_in(apps, clients, email)
    return keys


def page(clients, path: str, status: int = 200) -> str:
    answer = clients["surveys"].get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer.get_data(as_text=True)


def test_an_analyst_weights_two_co_sponsored_surveys_together(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    seed_targets(app)
    town = seed_survey(app, sponsors=("police", "council"), respondents=120, title="Town centre")
    parks = seed_survey(app, sponsors=("council", "police"), respondents=90, title="Parks")

    chooser = page(clients, "/results")
    assert "Town centre (closed; Riverside Council, Riverside Police)" in chooser
    assert 'name="dimensions" type="checkbox" value="age_band"' in chooser

    html = page(clients, f"/results/weighting?survey_ids={town}&survey_ids={parks}"
                         "&dimensions=gender&dimensions=age_band")
    assert html.index("<h2 class=\"govuk-heading-m\">Town centre") < html.index("Parks</h2>")
    tables = tables_of(html)
    gender = tables["Gender: shares of the population and of respondents, before and after "
                    "weighting"]
    # Respondents lean to women; weighted they are the population's half.
    assert gender[0] == ["Gender", "Population", "Before", "After"]
    female = next(row for row in gender if row[0] == "Female")
    assert female[1] == "50.0%" and female[3] == "50.0%" and float(female[2][:-1]) > 55
    assert html.count("Yes, in ") == 2
    for label in ("Smallest weight", "Largest weight", "Design effect", "Effective sample size"):
        assert html.count(f">{label}</dt>") == 2
    charts = charts_of(html)
    assert len(charts) == 4  # two dimensions of two surveys
    assert all("<script" not in svg and "<title>" in svg for svg in charts)
    assert "Gender: population, respondents and weighted respondents (%)" in charts[0]
    with app.app_context(), new_session() as session:
        [pull] = session.scalars(select(AuditLog).where(AuditLog.action == "weights")).all()
    assert (pull.actor, pull.agency, pull.role, pull.survey_ids) == (
        ANALYST, "council", "analyst", [town, parks])


def test_a_table_shows_weighted_percentages_with_intervals_and_hides_small_cells(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    seed_targets(app)
    survey_id = seed_survey(app, sponsors=("council", "police"), respondents=60)
    html = page(clients, f"/results/table?survey_ids={survey_id}&question=priority&by=age_band")
    assert "<h1 class=\"govuk-heading-l\">What should we spend most on?</h1>" in html
    tables = tables_of(html)
    lighting = tables["Street lighting: weighted % by age"]
    assert lighting[0] == ["Age", "Weighted", "95% interval", "Count"]
    groups = [row[0] for row in lighting[1:]]
    # Natural order, names not codes; groups nobody is in are left out.
    assert groups == ["25 to 34", "45 to 54", "65 to 74", "Everyone"]
    everyone = lighting[-1]
    percent, (low, high) = float(everyone[1][:-1]), map(float, everyone[2].split(" to "))
    assert low < percent < high and everyone[3] == "20"
    assert "fewer than 10" in [row[1] for row in lighting[1:]]
    bases = tables["Respondents answering, by age"]
    assert bases[-1][:2] == ["Everyone", "60"]
    assert dict(row[:2] for row in bases[1:])["25 to 34"] == "22"
    charts = charts_of(html)
    assert len(charts) == len(OPTIONS)
    assert "Street lighting: weighted % by age, with 95% intervals" in charts[0]
    assert 'class="ci"' in charts[0]  # the error bars
    assert "E05000001" not in html


def test_one_table_compares_two_surveys_question_by_question(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    town = seed_survey(app, sponsors=("council",), respondents=30, title="Town centre")
    parks = seed_survey(app, sponsors=("police", "council"), respondents=24, title="Parks")
    html = page(clients, f"/results/table?survey_ids={town}&survey_ids={parks}"
                         "&question=feel_safe&by=survey")
    tables = tables_of(html)
    safe = tables["4 – Safe: weighted % by survey"]
    assert [row[0] for row in safe[1:]] == ["Town centre", "Parks", "Everyone"]
    assert "Not weighted" in html  # no population figures: counted as they are


def test_another_agencys_survey_is_not_found(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    theirs = seed_survey(app, sponsors=("health",), respondents=12, title="Clinics")
    ours = seed_survey(app, sponsors=("council",), respondents=12, title="Town centre")
    assert "Clinics" not in page(clients, "/results")
    for path in (f"/results/weighting?survey_ids={theirs}",
                 f"/results/weighting?survey_ids={ours}&survey_ids={theirs}",
                 f"/results/table?survey_ids={theirs}&question=priority"):
        assert "Page not found" in page(clients, path, status=404)
    with app.app_context(), new_session() as session:
        assert session.scalars(select(AuditLog).where(AuditLog.action != "sign_in")).all() == []


def test_choosing_no_survey_names_the_field(apps, clients):
    signed_in(apps, clients)
    html = page(clients, "/results/weighting?dimensions=gender", status=400)
    assert '<a href="#survey_ids">Choose at least one survey</a>' in html
    assert html.startswith("<!DOCTYPE html>") and "<title>Error: Results" in html


def test_a_surveys_overview_leads_to_its_answers_counted_with_small_cells_hidden(
        apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients, role="officer", email="olu@council.example")
    survey_id = seed_survey(app, sponsors=("police", "council"), respondents=45, title="Parks")
    overview = page(clients, f"/surveys/{survey_id}")
    assert (f'<a href="/surveys/{survey_id}/results" role="button" draggable="false" '
            'class="govuk-button" data-module="govuk-button">Results</a>') in overview
    html = page(clients, f"/surveys/{survey_id}/results")
    assert "<h1 class=\"govuk-heading-l\">Results</h1>" in html
    tables = tables_of(html)
    safe = tables["How safe?: answers counted"]
    # Labels, not codes; nine gave each of the five points: each hidden.
    assert [row[0] for row in safe[1:]] == ["1 – Very unsafe", "2 – Unsafe", "3 – Neither",
                                            "4 – Safe", "5 – Very safe"]
    assert {row[1] for row in safe[1:]} == {"fewer than 10"}
    assert ">5 – Very safe (fewer than 10)<" in charts_of(html)[0]
    priority = tables["What should we spend most on?: answers counted"]
    assert priority[1:] == [[option, "15", "33.3%"] for option in OPTIONS]
    # The mean of 45 answers gives no small group away, though each count is hidden.
    assert "Answered by 45. Mean: 3.00." in html
    assert "Anything else?" in html
    assert "wrote something" not in html  # one comment: fewer than 10
    assert len(charts_of(html)) == 2  # one beside each table
    assert f'href="/results/weighting?survey_ids={survey_id}"' in html
    assert "Page not found" in page(clients, f"/surveys/{survey_id + 99}/results", status=404)


def test_a_survey_with_few_answers_publishes_no_count_of_them(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    survey_id = seed_survey(app, respondents=6, status="fieldwork")
    html = page(clients, f"/surveys/{survey_id}/results")
    assert "<h1 class=\"govuk-heading-l\">Results so far</h1>" in html
    assert html.count("Answered by <span class=\"govuk-hint govuk-!-margin-0\">fewer than 10"
                      "</span>") == 3
    assert "Mean:" not in html
    for rows in tables_of(html).values():
        assert {row[1] for row in rows[1:]} <= {"fewer than 10"}
