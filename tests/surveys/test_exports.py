"""Exports: CSV in UTF-8, Excel with its codebook, SPSS with labels, big ones in the background."""

from __future__ import annotations

import csv
import io

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.surveys.models import AuditLog, ExportJob, Outbox
from shared.db import new_session
from tests.scenario import bearer
from tests.surveys.test_analysis import OPTIONS, agency_keys, seed_survey, seed_targets


def download(app, key: str, survey_id: int, fmt: str):
    response = app.test_client().get(
        f"/api/v1/analysis/dataset?survey_ids={survey_id}&format={fmt}", headers=bearer(key))
    assert response.status_code == 200, response.json
    return response


def test_the_sav_file_opens_with_pyreadstat_with_its_labels(surveys_app, tmp_path):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=30)
    response = download(surveys_app, keys["council"]["analyst"], survey_id, "sav")
    assert response.headers["Content-Disposition"].endswith('.sav"')
    path = tmp_path / "export.sav"
    path.write_bytes(response.data)
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 30
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["priority"] == "What should we spend most on?"
    assert labels["weight"].startswith("Weight")
    assert meta.variable_value_labels["priority"] == {1.0: OPTIONS[0], 2.0: OPTIONS[1],
                                                      3.0: OPTIONS[2]}
    assert meta.variable_value_labels["feel_safe"][5.0] == "Very safe"
    assert meta.variable_value_labels["gender"][1.0] == "Female"
    assert set(frame["priority"].dropna()) <= {1.0, 2.0, 3.0}
    assert frame["weight"].mean() == pytest.approx(1.0)
    # Read with labels applied, the answers come back as the options' text.
    labelled, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
    assert set(labelled["priority"]) <= set(OPTIONS)


def test_the_excel_file_opens_with_openpyxl_and_has_its_codebook(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=12)
    response = download(surveys_app, keys["council"]["analyst"], survey_id, "xlsx")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["data", "codebook"]
    data = list(book["data"].iter_rows(values_only=True))
    assert data[0][:2] == ("survey_id", "respondent_id")
    assert len(data) == 13
    # A read-only sheet drops trailing empty cells; pad each line back to five.
    codebook = [tuple(row) + (None,) * (5 - len(row))
                for row in book["codebook"].iter_rows(values_only=True)]
    assert codebook[0] == ("variable", "label", "type", "value", "value label")
    assert ("priority", "What should we spend most on?", "string", None, None) in codebook
    assert ("feel_safe", None, None, "1", "Very unsafe") in codebook
    assert ("ethnicity", None, None, "white", "White") in codebook


def test_the_csv_file_is_utf8_with_a_header_and_a_row_per_respondent(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=6)
    response = download(surveys_app, keys["council"]["analyst"], survey_id, "csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))
    assert len(rows) == 6
    assert rows[0]["comments"] == "Café lighting"
    assert rows[0]["respondent_id"] == f"S{survey_id}-R000001"


def test_a_large_export_runs_in_the_background_with_progress_and_a_download_link(
        surveys_app, pump):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=40)
    client = surveys_app.test_client()
    analyst = bearer(keys["council"]["analyst"])
    created = client.post("/api/v1/analysis/exports", headers=analyst,
                          json={"survey_ids": [survey_id], "format": "xlsx"})
    assert created.status_code == 202
    assert created.json["status"] == "queued" and created.json["download_url"] is None
    export_id = created.json["id"]
    with surveys_app.app_context(), new_session() as session:
        # The request only wrote to the outbox; the worker does the rest.
        assert session.scalar(select(Outbox.type).where(
            Outbox.type == "surveys.export_dataset")) == "surveys.export_dataset"
    pump()
    status = client.get(f"/api/v1/analysis/exports/{export_id}", headers=analyst).json
    assert (status["status"], status["progress"], status["row_count"]) == ("done", 100, 40)
    assert status["download_url"] == f"/api/v1/analysis/exports/{export_id}/file"
    file = client.get(status["download_url"], headers=analyst)
    assert file.status_code == 200
    book = load_workbook(io.BytesIO(file.data), read_only=True)
    assert len(list(book["data"].iter_rows())) == 41
    with surveys_app.app_context(), new_session() as session:
        actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert session.get(ExportJob, export_id).status == "done"
    assert actions == ["export.xlsx", "download.xlsx"]
    # Another agency's analyst cannot see it or fetch it.
    police = bearer(keys["police"]["analyst"])
    assert client.get(f"/api/v1/analysis/exports/{export_id}", headers=police).status_code == 404
    assert client.get(status["download_url"], headers=police).status_code == 404


def test_an_export_request_names_the_field_it_cannot_accept(surveys_app):
    keys = agency_keys(surveys_app)
    response = surveys_app.test_client().post(
        "/api/v1/analysis/exports", headers=bearer(keys["council"]["analyst"]),
        json={"survey_ids": [], "format": "pdf"})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"survey_ids", "format"}
