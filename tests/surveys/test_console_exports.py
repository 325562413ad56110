"""The analyst's downloads in the console: an export built by the real worker behind a
progress page that refreshes itself, then its file; the merged dataset as a file while one
waits, refused when too big with a way on; only the agency's own exports; the analyst's pulls
in the audit log under their email; and nothing a caller typed reaching a spreadsheet as a
formula."""

from __future__ import annotations

import csv
import io
import re

import pyreadstat
from openpyxl import load_workbook
from sqlalchemy import select

from services.surveys import exports, pulls
from services.surveys.models import AuditLog, ExportJob
from shared.db import new_session
from tests.staff import add_staff, sign_in
from tests.surveys.test_analysis import OPTIONS, seed_survey, seed_targets
from tests.surveys.test_console_results import ANALYST, page, signed_in, tables_of
from tests.surveys.test_exports import HOSTILE, add_questions_and_hostile_values


def start(clients, **form) -> str:
    """Post the export form; the path of the export's page it goes to."""
    answer = clients["surveys"].post("/results/exports", data=form)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:3000]
    return answer.headers["Location"]


def test_an_analyst_builds_an_spss_export_and_watches_it_to_its_download(
        apps, clients, pump, tmp_path):
    app = apps["surveys"]
    signed_in(apps, clients)
    seed_targets(app)
    town = seed_survey(app, sponsors=("police", "council"), respondents=40, title="Town centre")
    parks = seed_survey(app, sponsors=("council",), respondents=25, title="Parks")
    form = page(clients, f"/results/exports?survey_ids={town}&dimensions=gender")
    assert f'name="survey_ids" type="checkbox" value="{town}" checked' in form
    assert 'name="dimensions" type="checkbox" value="gender" checked' in form
    assert "SPSS: every variable and value labelled" in form

    status_path = start(clients, survey_ids=[town, parks], dimensions=["gender", "age_band"],
                        format="sav", form="wide")
    queued = clients["surveys"].get(status_path)
    waiting = queued.get_data(as_text=True)
    # Queued: the page refreshes itself, the bar at 0 %, and there is no link yet.
    assert queued.headers["Refresh"] == "2" and "Stop refreshing" in waiting
    assert "app-progress__bar--0" in waiting
    assert "Waiting to start" in waiting and "Download the SPSS file" not in waiting
    assert "Town centre, Parks" in waiting and "Gender, Age" in waiting

    stopped = clients["surveys"].get(status_path + "?refresh=off")
    assert "Refresh" not in stopped.headers and "Refresh this page" in stopped.get_data(
        as_text=True)
    pump()
    finished = clients["surveys"].get(status_path)
    done = finished.get_data(as_text=True)
    assert "Refresh" not in finished.headers and "app-progress__bar--100" in done
    [link] = re.findall(r'href="([^"]+/file)" download>Download the SPSS file</a> \(65 rows\)',
                        done)
    answer = clients["surveys"].get(link)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].endswith('.sav"')
    assert answer.headers["Cache-Control"] == "no-store"
    path = tmp_path / "console.sav"
    path.write_bytes(answer.data)
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 65
    assert {"survey_id", "respondent_id", "weight", "priority", "feel_safe", "gender"} <= set(
        meta.column_names)
    assert meta.variable_value_labels["priority"] == {1.0: OPTIONS[0], 2.0: OPTIONS[1],
                                                      3.0: OPTIONS[2]}

    listing = tables_of(page(clients, "/results/exports"))["The latest 1, newest first"]
    assert listing[1][1:4] == ["Town centre, Parks", "SPSS, one row per respondent", ANALYST]
    with app.app_context(), new_session() as session:
        job = session.scalars(select(ExportJob)).one()
        assert job.dimensions == ["gender", "age_band"] and job.actor == ANALYST
        rows = [(a.action, a.actor, a.rows) for a in session.scalars(
            select(AuditLog).where(AuditLog.action != "sign_in").order_by(AuditLog.id))]
    assert rows == [("export.sav", ANALYST, 65), ("download.sav", ANALYST, 65)]
    mine = tables_of(page(clients, "/results/pulls"))["2 pulls, newest first"]
    # What was pulled, and (on a line of its own) which export.
    assert [row[1] for row in mine[1:]] == ["Downloaded an export (SAV)Export 1",
                                            "Built an export (SAV)Export 1"]
    assert mine[1][2:] == ["Town centre, Parks", "65"]


def test_the_export_form_names_each_field_it_cannot_take(apps, clients):
    app = apps["surveys"]
    signed_in(apps, clients)
    town = seed_survey(app, respondents=12)
    answer = clients["surveys"].post("/results/exports", data={"format": "pdf"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert '<a href="#survey_ids">Choose at least one survey</a>' in html
    assert '<a href="#format">Choose a file format</a>' in html
    assert f'value="{town}"' in html  # the form is there to correct
    # Ids no survey can have, as a form or an address may carry them: the form, not an error.
    for odd in ("²", "9" * 5000, "-1", "0"):
        assert clients["surveys"].get(f"/results/exports?survey_ids={odd}").status_code == 200
        refused = clients["surveys"].post("/results/exports", data={
            "survey_ids": [odd], "format": "csv"})
        assert refused.status_code == 400 and 'href="#survey_ids"' in refused.get_data(
            as_text=True), odd
    with app.app_context(), new_session() as session:
        assert session.scalars(select(ExportJob)).all() == []


def test_only_analysts_download_and_only_their_agencys_exports(apps, clients, pump):
    app = apps["surveys"]
    signed_in(apps, clients, email="olu@council.example", role="officer")
    town = seed_survey(app, sponsors=("council",), respondents=12)
    for path in ("/results/exports", f"/results/dataset?survey_ids={town}&format=csv"):
        assert clients["surveys"].get(path).status_code == 403
    assert "Download respondents’ data" not in page(clients, "/results")
    assert "Download now" not in page(clients, f"/results/weighting?survey_ids={town}")

    with app.app_context(), new_session() as session:
        theirs = pulls.request_export(session, app.extensions["bus"], who=pulls.Puller(
            "police", "analyst", actor="pat@police.example"), survey_ids=[
            seed_survey(app, sponsors=("police",), respondents=12, title="Patrols")],
            form="wide", fmt="csv")
        theirs_id = theirs.id
    pump()
    add_staff(apps, email=ANALYST, agency="council", role="analyst")
    sign_in(apps, clients, ANALYST)
    for path in (f"/results/exports/{theirs_id}", f"/results/exports/{theirs_id}/file",
                 f"/results/exports/{theirs_id + 1}"):
        assert "Page not found" in page(clients, path, status=404)
    assert "Patrols" not in page(clients, "/results/exports")


def test_the_dataset_downloads_while_one_waits_and_a_big_one_is_sent_to_the_background(
        apps, clients, monkeypatch):
    app = apps["surveys"]
    signed_in(apps, clients)
    town = seed_survey(app, respondents=30)
    weighting = page(clients, f"/results/weighting?survey_ids={town}")
    assert 'action="/results/dataset"' in weighting and "Download now" in weighting
    answer = clients["surveys"].get(f"/results/dataset?survey_ids={town}&format=csv&form=long")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="civicpanel-{town}-long.csv"')
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8"))))
    assert len(rows) == 90 and {r["question"] for r in rows} == {"feel_safe", "priority",
                                                                  "comments"}

    monkeypatch.setattr(pulls, "INLINE_EXPORT_ROWS", 20)  # the limit, not the data, is smaller
    refused = clients["surveys"].get(f"/results/dataset?survey_ids={town}&format=sav")
    assert refused.status_code == 413
    html = refused.get_data(as_text=True)
    assert "Too many rows to download while you wait" in html
    assert "These surveys come to 30 rows." in html
    assert f'<input type="hidden" name="survey_ids" value="{town}">' in html
    assert '<input type="hidden" name="format" value="sav">' in html
    bad = clients["surveys"].get(f"/results/dataset?survey_ids={town}&format=json")
    assert bad.status_code == 400 and "Choose a file format" in bad.get_data(as_text=True)
    with app.app_context(), new_session() as session:
        assert [(a.action, a.rows) for a in session.scalars(
            select(AuditLog).where(AuditLog.action.startswith("dataset")))] == [
            ("dataset.csv", 90)]


def test_nothing_typed_reaches_the_consoles_csv_or_excel_as_a_formula(apps, clients, pump):
    app = apps["surveys"]
    signed_in(apps, clients)
    town = seed_survey(app, respondents=12)
    add_questions_and_hostile_values(app, town)
    text = clients["surveys"].get(f"/results/dataset?survey_ids={town}&format=csv").data
    first = next(csv.DictReader(io.StringIO(text.decode("utf-8"))))
    assert first["comments"] == "'" + HOSTILE
    assert first["extra_carer"].startswith("'@SUM")
    assert first["change"] == "-3"

    status_path = start(clients, survey_ids=[town], format="xlsx", form="wide")
    pump()
    [link] = re.findall(r'href="([^"]+/file)" download>Download the Excel', page(clients,
                                                                                status_path))
    book = load_workbook(io.BytesIO(clients["surveys"].get(link).data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    data = book["data"]
    header = [cell.value for cell in data[1]]
    first_row = dict(zip(header, data[2], strict=True))
    assert first_row["comments"].value == HOSTILE and first_row["comments"].data_type == "s"


def test_the_progress_bar_moves_while_the_worker_builds_the_file(apps, clients, pump):
    """The export's page read over and over while the file is built, as its own refresh
    would: the bar steps on, then the link."""
    app = apps["surveys"]
    signed_in(apps, clients)
    town = seed_survey(app, respondents=30)
    status_path = start(clients, survey_ids=[town], format="sav", form="wide")
    export_id = int(status_path.rsplit("/", 1)[1])
    seen = []

    def bar() -> str:
        answer = clients["surveys"].get(status_path)
        step = re.search(r"app-progress__bar--(\d+)", answer.get_data(as_text=True)).group(1)
        return f"{step}{'' if 'Refresh' in answer.headers else ' (no refresh)'}"

    reporter = exports._progress_reporter(export_id)
    with app.app_context(), new_session() as session:
        exports._claim(session, {"export_id": export_id})
        session.commit()
        seen.append(bar())
        job = session.get(ExportJob, export_id)
        exports.build_export(session, job, lambda fraction: (reporter(fraction),
                                                             seen.append(bar())))
        session.rollback()
    pump()  # the queued message: the real worker builds it again and finishes it
    seen.append(bar())
    assert seen == ["0", "5", "50", "95", "100 (no refresh)"]
