"""Population targets in the console: a census file uploaded, the areas it covers by name with
their dimensions and groups, a bad file refused with every problem listed."""

from __future__ import annotations

import io
import re

from werkzeug.datastructures import MultiDict

from tests.panel.test_console_members import manager_signed_in, page
from tests.staff import add_staff, sign_in

AGES = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
CENSUS = "vintage,area,area_name,dimension,category,population\n" + "".join(
    f"census-2021,{code},{name},age_band,{age},100\n"
    for code, name in (("E05001001", "Riverside Central"), ("E05001002", "Old Town"))
    for age in AGES) + "census-2021,E05001002,Old Town,gender,female,360\n" \
    "census-2021,E05001002,Old Town,gender,male,340\n"


def upload(clients, body: str):
    return clients["panel"].post("/panel/targets", content_type="multipart/form-data",
                                 data=MultiDict([("file", (io.BytesIO(body.encode()),
                                                           "census.csv"))]))


def test_a_census_file_is_stored_and_its_areas_shown_by_name(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    assert "No targets yet" in page(clients, "/panel/targets")
    answer = upload(clients, CENSUS)
    assert answer.status_code == 303
    shown = page(clients, answer.headers["Location"])
    assert "16 targets stored" in shown
    rows = re.findall(r"<tr class=\"govuk-table__row\">\s*<th scope=\"row\"[^>]*>(.*?)<",
                      shown.split('id="areas"')[1])
    assert rows == ["Old Town", "Riverside Central"]  # by name
    old_town = shown.split("Old Town", 1)[1].split("</tr>")[0]
    assert "<strong>Age</strong>: every group" in old_town
    assert "<strong>Gender</strong>: 2 groups: Female, Male" in old_town
    assert "700" in old_town and "census-2021" in old_town


def test_a_bad_census_file_lists_every_problem_and_stores_nothing(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    bad = CENSUS.replace("age_band,75+,100", "age_band,80+,100", 1) \
        .replace("gender,male,340", "gender,male,lots")
    answer = upload(clients, bad)
    assert answer.status_code == 400
    html = answer.data.decode()
    assert '<a href="#file">The file has 2 problems' in html
    problems = html.split('id="file-problems"')[1].split("</table>")[0]
    assert re.findall(r"<code>(\w+)</code>", problems) == ["category", "population"]
    assert ">8<" in problems and ">17<" in problems
    assert 'id="areas">No targets yet' in html


def test_admins_manage_targets_and_officers_cannot(apps, clients, pump):
    manager_signed_in(apps, clients, pump, role="admin")
    assert upload(clients, CENSUS).status_code == 303
    assert "Riverside Central" in page(clients, "/panel/targets")
    add_staff(apps, email="officer@council.example", agency="council", role="officer")
    sign_in(apps, clients, "officer@council.example")
    page(clients, "/panel/targets", status=403)
    assert upload(clients, CENSUS).status_code == 403
