"""A closed survey's respondents in the console: surveys tells panel who answered when it
closes, and a sponsor's panel manager chooses the survey by its title on the
representativeness page to see the same charts and tables for its respondents, small groups
hidden; another agency's survey is as missing."""

from __future__ import annotations

import base64
import re

from services.panel.models import SurveyRespondents
from services.panel.targets import import_targets
from shared.db import new_session
from shared.service import bus
from tests.feedback.test_reports import answer_everyone
from tests.scenario import bearer
from tests.staff import add_staff, sign_in

CENSUS = "vintage,area,area_name,dimension,category,population\n" + "".join(
    f"census-2021,E05001001,Riverside Central,{dim},{cat},{n}\n" for dim, cat, n in (
        ("age_band", "16-24", 500), ("age_band", "25-34", 500),
        ("gender", "female", 500), ("gender", "male", 500)))


def census(apps) -> None:
    with apps["panel"].app_context(), new_session() as session:
        import_targets(session, bus(), body=CENSUS)


def signed_in(apps, clients, email: str, agency: str, role: str = "panel_manager") -> None:
    add_staff(apps, email=email, agency=agency, role=role)
    sign_in(apps, clients, email)


def page(clients, path: str, status: int = 200) -> str:
    answer = clients["panel"].get(path)
    assert answer.status_code == status, answer.data.decode()[:2000]
    return answer.data.decode()


def closed_survey(apps, clients, pump, answers: int = 12) -> int:
    keys, survey_id = answer_everyone(apps, clients, pump, [("4", "Street lighting")] * answers)
    closed = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close",
                                     headers=bearer(keys["council"]["officer"]))
    assert closed.status_code == 200, closed.json
    pump()  # surveys tells panel (and feedback) who answered
    return survey_id


def test_a_sponsors_panel_manager_reads_how_its_respondents_represent_the_ward(apps, clients,
                                                                              pump):
    census(apps)
    survey_id = closed_survey(apps, clients, pump)
    signed_in(apps, clients, "pm@police.example", "police")  # a co-sponsor
    panel = page(clients, "/panel/representativeness")
    choice = panel.split('id="survey-choice"')[1].split("</form>")[0]
    assert f'<option value="{survey_id}">Feeling safe in the town centre</option>' in choice

    html = page(clients, f"/panel/representativeness/respondents?survey={survey_id}"
                         "&area=E05001001")
    assert "How well the respondents to Feeling safe in the town centre represent Riverside " \
           "Central" in html and "12 respondents" in html
    under = re.findall(r"<li><strong>(.*?)</strong>: needs (\d+) more respondents", html)
    assert under == [("Age: 16 to 24", "6"), ("Gender: Male", "6")]
    ages = html.split('id="table-age_band"')[1].split("</table>")[0]
    cells = re.findall(r'numeric">([^<]*)</td>', ages)
    assert cells == ["50.0%", "0.0%", "0", "6", "50.0%", "100.0%", "12", "0"]
    assert ">Respondents</th>" in ages and "E05001001<" not in html
    chart = re.search(r'<img class="app-chart" src="data:image/svg\+xml;base64,([^"]+)"', html)
    svg = base64.b64decode(chart.group(1)).decode()
    assert "Age: respondents share against population share" in svg and "100.0%" in svg

    with apps["panel"].app_context(), new_session() as session:
        erased = session.get(SurveyRespondents, survey_id).member_refs[0]
    # The sponsors' names came with the survey: the opt-out form names agencies by them.
    choices = page(clients, f"/panel/members/{erased}/agency-opt-outs")
    labels = re.findall(r'for="agency[-\d]*">([^<]+)</label>', choices)
    assert labels[0] == "Riverside Police (your agency)" and "Riverside Council" in labels
    assert "council" not in labels  # the two sponsors by name; others by code, unnamed
    assert clients["panel"].post(f"/panel/members/{erased}/erase").status_code == 303
    assert "11 respondents" in page(
        clients, f"/panel/representativeness/respondents?survey={survey_id}")


def test_small_groups_of_respondents_are_hidden(apps, clients, pump):
    census(apps)
    survey_id = closed_survey(apps, clients, pump, answers=4)
    signed_in(apps, clients, "pm@council.example", "council")
    html = page(clients, f"/panel/representativeness/respondents?survey={survey_id}")
    ages = html.split('id="table-age_band"')[1].split("</table>")[0]
    assert "fewer than 10" in ages and ">4<" not in ages


def test_another_agencys_survey_is_as_missing_and_the_page_is_for_the_panel_roles(
        apps, clients, pump):
    census(apps)
    survey_id = closed_survey(apps, clients, pump)
    signed_in(apps, clients, "pm@health.example", "health")  # not a sponsor
    assert 'id="survey-choice"' not in page(clients, "/panel/representativeness")
    other = page(clients, f"/panel/representativeness/respondents?survey={survey_id}", 404)
    missing = page(clients, "/panel/representativeness/respondents?survey=99999", 404)
    assert other == missing
    assert "No survey your agency sponsors has closed yet" in page(
        clients, "/panel/representativeness/respondents")
    signed_in(apps, clients, "officer@council.example", "council", role="officer")
    page(clients, f"/panel/representativeness/respondents?survey={survey_id}", 403)
