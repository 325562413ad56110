"""A panel manager imports a CSV in the console: the columns and a template on the form, the
import on panel's worker, a progress bar that moves and a page that refreshes itself while it
runs, and the bad rows as a table and as a download."""

from __future__ import annotations

import csv
import io
import re

from werkzeug.datastructures import MultiDict

from services.panel.import_guide import problems_csv
from services.panel.imports import import_now
from services.panel.models import MemberImport
from shared.db import new_session
from tests.panel.test_console_members import manager_signed_in, page
from tests.panel.test_imports import HEADER, good_row

REFRESH = '<meta http-equiv="refresh" content="2">'
BAD_AGE = "X{n},b{n}@example.org,,email,en,12-15,female,asian,disabled,E05001003,,,yes,no,\n"


def bar_step(html: str) -> int:
    return int(re.search(r"app-progress__bar--(\d+)", html).group(1))


def upload(clients, body: str, name="panel.csv"):
    # A MultiDict of pairs: a plain dict's (stream, name) tuple would read as two values.
    return clients["panel"].post("/panel/imports", content_type="multipart/form-data",
                                 data=MultiDict([("file", (io.BytesIO(body.encode()), name))]))


def test_the_form_documents_the_columns_and_its_template_imports_cleanly(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    form = page(clients, "/panel/imports")
    for column in ("external_id", "preferred_channel", "age_band", "consent_outcomes",
                   "extra_carer"):
        assert f"<code>{column}</code>" in form
    assert "16-24 (16 to 24)" in form and 'enctype="multipart/form-data"' in form
    assert 'name="csrf_token"' in form
    template = clients["panel"].get("/panel/imports/template.csv")
    assert template.headers["Content-Disposition"].endswith('"panel-import-template.csv"')
    rows = list(csv.DictReader(io.StringIO(template.data.decode())))
    assert rows[0]["external_id"] == "P0001" and rows[0]["extra_carer"] == "yes"

    answer = upload(clients, template.data.decode(), "template.csv")
    assert answer.status_code == 303
    pump()
    done = page(clients, answer.headers["Location"])
    assert "template.csv: finished" in done and "every row was imported" in done
    assert REFRESH not in done and bar_step(done) == 100
    assert "template.csv" in page(clients, "/panel/imports")  # listed under recent imports


def test_bad_rows_are_listed_with_line_column_and_reason_and_download(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    body = HEADER + good_row(1) + BAD_AGE.format(n=2) + good_row(3) + "X4,,,email,en\n"
    answer = upload(clients, body)
    status_page = answer.headers["Location"]
    waiting = page(clients, status_page)
    assert REFRESH in waiting and "Waiting to start" in waiting and bar_step(waiting) == 0
    pump()  # panel's worker runs the import
    done = page(clients, status_page)
    assert REFRESH not in done and "4 of 4 rows checked (100%)" in done
    problems = done.split('id="problems"')[1].split("</table>")[0]
    cells = re.findall(r'<td class="govuk-table__cell[^"]*">(.*?)</td>', problems)
    assert cells[:3] == ["3", "<code>age_band</code>", "Must be one of: 16-24, 25-34, 35-44, "
                                                        "45-54, 55-64, 65-74, 75+."]
    assert "<code>gender</code>" in problems and ">5<" in problems
    download = clients["panel"].get(status_page + "/problems.csv")
    assert download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.data.decode())))
    assert rows[0] == ["line", "field", "reason"] and rows[1][:2] == ["3", "age_band"]
    assert len(rows) - 1 == done.count('<tr class="govuk-table__row"><td')


def test_the_bar_moves_while_two_thousand_rows_import(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    body = HEADER + "".join(BAD_AGE.format(n=n) if n % 50 == 0 else good_row(n)
                            for n in range(2000))
    seen: list[str] = []

    def look(run: MemberImport) -> None:
        with apps["panel"].app_context():  # the page's own context, as another request's
            seen.append(page(clients, f"/panel/imports/{run.id}"))

    with apps["panel"].app_context(), new_session() as session:
        run = import_now(session, agency="council", filename="big.csv", body=body,
                         allow_drama=False, progress=look)
    steps = [bar_step(html) for html in seen]
    assert steps == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]  # every 200 rows
    assert all(REFRESH in html for html in seen[:-1])
    final = page(clients, f"/panel/imports/{run.id}")
    added = re.search(r"Members added</dt><dd[^>]*>([\d,]+)", final).group(1)
    assert REFRESH not in final and added == "1,960" and "Every problem" in final


def test_a_problem_that_would_run_as_a_formula_downloads_inert():
    run = MemberImport(errors=[{"line": 2, "field": "extra_club",
                                "reason": "=HYPERLINK(\"http://evil\")"}])
    rows = list(csv.reader(io.StringIO(problems_csv(run))))
    assert rows[1] == ["2", "extra_club", "'=HYPERLINK(\"http://evil\")"]


def test_an_upload_without_a_file_is_named_in_an_error_summary(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    answer = clients["panel"].post("/panel/imports", content_type="multipart/form-data",
                                   data={})
    assert answer.status_code == 400
    html = answer.data.decode()
    assert 'govuk-error-summary' in html and '<a href="#file">Select a CSV file</a>' in html


def test_import_pages_are_for_panel_managers_only(apps, clients, pump):
    manager_signed_in(apps, clients, pump, role="officer")
    for path in ("/panel/imports", "/panel/imports/template.csv"):
        page(clients, path, status=403)
    assert upload(clients, HEADER + good_row(1)).status_code == 403
