"""Representativeness in the console: per dimension a chart of panel share against population
share beside its table, groups in natural order and in words, the under-represented ranked by
gap, and small cells hidden by the one disclosure rule."""

from __future__ import annotations

import base64
import re

from services.panel.targets import import_targets
from shared.db import new_session
from shared.service import bus
from tests.panel.factories import make_members
from tests.panel.test_console_members import manager_signed_in, page

CENSUS = "vintage,area,area_name,dimension,category,population\n" + "".join(
    f"census-2021,E05001001,Riverside Central,{dim},{cat},{n}\n" for dim, cat, n in (
        ("age_band", "65-74", 400), ("age_band", "16-24", 300), ("age_band", "25-34", 300),
        ("gender", "male", 500), ("gender", "female", 500)))


def census(apps) -> None:
    with apps["panel"].app_context(), new_session() as session:
        import_targets(session, bus(), body=CENSUS)


def chart_svg(html: str, dimension: str) -> str:
    section = html.split(f'id="{dimension}"')[1]
    uri = re.search(r'<img class="app-chart" src="data:image/svg\+xml;base64,([^"]+)"',
                    section).group(1)
    return base64.b64decode(uri).decode()


def test_each_dimension_has_a_chart_and_table_and_the_gaps_are_ranked(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    census(apps)
    make_members(apps["panel"], 40, age_band="25-34", gender="female")
    make_members(apps["panel"], 12, start=40, age_band="65-74", gender="male")
    html = page(clients, "/panel/representativeness?area=E05001001")
    assert "How well the panel represents Riverside Central" in html
    under = re.findall(r"<li><strong>(.*?)</strong>: needs (\d+) more", html)
    assert under == [("Age: 16 to 24", "16"), ("Gender: Male", "14"), ("Age: 65 to 74", "9")]

    ages = html.split('id="table-age_band"')[1].split("</table>")[0]
    groups = re.findall(r'<th scope="row" class="govuk-table__header">([^<]+?)\s*(?:<|$)', ages)
    assert groups == ["16 to 24", "25 to 34", "65 to 74"]  # natural order, in words
    assert ages.count("Under-represented") == 2 and "76.9%" in ages and "40.0%" in ages

    svg = chart_svg(html, "age_band")
    assert "Age: panel share against population share" in svg
    assert "16 to 24" in svg and "76.9%" in svg and "Population share" in svg
    assert "<script" not in html and "E05001001</" not in html
    assert 'id="gender"' in html and chart_svg(html, "gender").count("50.0%") >= 2


def test_small_groups_are_hidden_by_the_one_rule(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    census(apps)
    make_members(apps["panel"], 40, age_band="25-34", gender="female")
    make_members(apps["panel"], 3, start=40, age_band="65-74", gender="female")
    html = page(clients, "/panel/representativeness")
    ages = html.split('id="table-age_band"')[1].split("</table>")[0]
    assert "fewer than 10" in ages
    members = re.findall(r'numeric">(\d+)</td>\s*<td class="govuk-table__cell govuk-table__'
                         r'cell--numeric">[\d,]*</td>\s*</tr>', ages)
    assert "3" not in members


def test_representativeness_is_for_panel_managers_and_admins(apps, clients, pump):
    manager_signed_in(apps, clients, pump, role="admin")
    census(apps)
    assert "Under-represented groups" in page(clients, "/panel/representativeness")
    from tests.staff import add_staff, sign_in
    add_staff(apps, email="officer@council.example", agency="council", role="officer")
    sign_in(apps, clients, "officer@council.example")
    page(clients, "/panel/representativeness", status=403)
