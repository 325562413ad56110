"""A question bank question's trend in the console: its answers wave by wave across every
survey of the agency asking it, weighted, as a line chart with 95% intervals beside each
table, small cells as "fewer than 10"; reached from the bank and from a results table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.surveys.models import BankQuestion, Question
from services.surveys.schemas import QuestionDefinitionSchema
from shared.db import new_session
from tests.surveys.test_analysis import seed_survey, seed_targets
from tests.surveys.test_console_results import charts_of, page, signed_in, tables_of

SAFE = {"code": "feel_safe", "type": "rating", "text": "How safe?", "scale": {
    "min": 1, "max": 5, "labels": ["Very unsafe", "Unsafe", "Neither", "Safe", "Very safe"]}}


def bank_it(app, survey_ids, definition=SAFE) -> None:
    """Put the question in the bank, and the surveys' own question down as asking it."""
    with app.app_context(), new_session() as session:
        schema = QuestionDefinitionSchema()
        session.add(BankQuestion(code=definition["code"], agency="council",
                                 definition=schema.dump(schema.load(definition))))
        for question in session.scalars(select(Question).where(
                Question.survey_id.in_(survey_ids), Question.code == definition["code"])):
            question.bank_code = definition["code"]
        session.commit()


def waves(app) -> tuple[int, int, int]:
    """Three waves of the agency's (its answers 12, 10 and 15 to each point of the scale) and
    another agency's survey asking the same bank question."""
    later = seed_survey(app, sponsors=("council", "police"), respondents=50, title="Spring",
                        launched=datetime(2026, 6, 1, tzinfo=UTC))
    earlier = seed_survey(app, sponsors=("police", "council"), respondents=60, title="Winter",
                          launched=datetime(2026, 1, 12, tzinfo=UTC))
    latest = seed_survey(app, sponsors=("council",), respondents=75, title="Autumn",
                         launched=datetime(2026, 9, 1, tzinfo=UTC))
    theirs = seed_survey(app, sponsors=("health",), respondents=20, title="Clinics",
                         launched=datetime(2026, 3, 1, tzinfo=UTC))
    bank_it(app, [later, earlier, latest, theirs])
    return earlier, later, latest


def test_a_bank_question_reads_as_a_line_wave_by_wave_with_intervals(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    seed_targets(app)
    waves(app)
    bank = page(clients, "/question-bank")
    assert 'href="/question-bank/feel_safe/results">Results across your surveys and waves' in bank

    html = page(clients, "/question-bank/feel_safe/results")
    assert '<h1 class="govuk-heading-l">How safe?</h1>' in html
    # Waves in order of launch; another agency's survey is not among them.
    assert html.index(">Winter</a>") < html.index(">Spring</a>") < html.index(">Autumn</a>")
    assert "Clinics" not in html
    tables = tables_of(html)
    safe = tables["4 – Safe: weighted % wave by wave"]
    assert [row[0] for row in safe] == ["Wave", "Wave 1: Winter, Jan 2026",
                                        "Wave 2: Spring, Jun 2026", "Wave 3: Autumn, Sep 2026",
                                        "All waves together"]
    for row in safe[1:]:
        percent, (low, high) = float(row[1][:-1]), map(float, row[2].split(" to "))
        assert low < percent < high
    assert [row[3] for row in safe[1:]] == ["12", "10", "15", "37"]
    bases = tables["Respondents answering, wave by wave"]
    assert [row[:2] for row in bases[1:]] == [["Wave 1: Winter, Jan 2026", "60"],
                                              ["Wave 2: Spring, Jun 2026", "50"],
                                              ["Wave 3: Autumn, Sep 2026", "75"],
                                              ["All waves together", "185"]]
    charts = charts_of(html)
    assert len(charts) == 5  # one per point of the scale, each beside its table
    assert "4 – Safe: weighted % wave by wave, with 95% intervals" in charts[3]
    # A line through the three waves, an interval at each.
    assert 'class="graph line-graph' in charts[3] and charts[3].count('class="ci"') == 3
    assert all("<script" not in svg for svg in charts)


def test_a_wave_too_small_to_show_reads_fewer_than_10_and_breaks_the_line(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    ids = [seed_survey(app, respondents=60, title="Winter",
                       launched=datetime(2026, 1, 12, tzinfo=UTC)),
           seed_survey(app, respondents=45, title="Spring",
                       launched=datetime(2026, 6, 1, tzinfo=UTC)),
           seed_survey(app, respondents=75, title="Autumn",
                       launched=datetime(2026, 9, 1, tzinfo=UTC))]
    bank_it(app, ids)
    html = page(clients, "/question-bank/feel_safe/results")
    safe = tables_of(html)["4 – Safe: weighted % wave by wave"]
    # Nine in Spring gave each answer: hidden, and one more in each line so that no hidden
    # figure is its total less the others (shared/disclosure.py).
    assert safe[2][1] == "fewer than 10"
    assert [row[1] == "fewer than 10" for row in safe[1:]].count(True) == 2
    shown = [row for row in safe[1:] if row[1] != "fewer than 10"]
    assert len(shown) == 2 and all("%" in row[1] for row in shown)
    chart = charts_of(html)[3]
    assert chart.count('class="ci"') == sum(1 for row in shown if row[0].startswith("Wave"))
    assert ">Wave 2 (fewer than 10)<" in chart


def test_a_table_of_a_bank_question_leads_to_its_trend(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    earlier, _, _ = waves(app)
    html = page(clients, f"/results/table?survey_ids={earlier}&question=feel_safe&by=age_band")
    assert 'href="/question-bank/feel_safe/results">This question’s trend' in html
    other = page(clients, f"/results/table?survey_ids={earlier}&question=priority&by=survey")
    assert "/question-bank/" not in other


def test_a_bank_question_without_a_trend_says_why(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    bank_it(app, [], {"code": "comments", "type": "free_text", "text": "Anything else?"})
    bank_it(app, [], {**SAFE, "code": "bus_safe", "text": "Safe on the bus?"})
    assert "Only single-choice, yes or no and rating questions" in page(
        clients, "/question-bank/comments/results")
    assert "None of your agency’s surveys in fieldwork or closed asks this question yet." in page(
        clients, "/question-bank/bus_safe/results")
    assert "Page not found" in page(clients, "/question-bank/no_such/results", status=404)
