"""Exports: CSV in UTF-8, Excel with its codebook, SPSS with labels, big ones in the background."""

from __future__ import annotations

import csv
import io

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.surveys.models import (
    Answer,
    AuditLog,
    ExportJob,
    Invitation,
    Outbox,
    PopulationTarget,
    Question,
    Response,
    Survey,
)
from shared.db import new_session
from tests.scenario import bearer
from tests.surveys.test_analysis import (
    AREAS,
    OPTIONS,
    agency_keys,
    closed_payload,
    seed_survey,
    seed_targets,
)


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


HOSTILE = '=HYPERLINK("http://evil.example/","Click for your prize")'


def add_questions_and_hostile_values(app, survey_id: int) -> None:
    """A yes/no and a number question answered by everyone, and values that spreadsheets
    would run: a formula as an answer, and as a profile value brought in by an import."""
    with app.app_context(), new_session() as session:
        survey = session.get(Survey, survey_id)
        yes_no = Question(position=3, code="visited", type="yes_no", text="Did you visit?")
        number = Question(position=4, code="change", type="number", text="How many more?")
        survey.questions += [yes_no, number]
        session.flush()
        responses = session.scalars(select(Response).where(Response.survey_id == survey_id)
                                    .order_by(Response.id)).all()
        for index, response in enumerate(responses):
            session.add_all([
                Answer(response_id=response.id, question_id=yes_no.id,
                       value="yes" if index % 2 else "no"),
                Answer(response_id=response.id, question_id=number.id,
                       value="-3" if index == 0 else str(index))])
        comments = next(q for q in survey.questions if q.code == "comments")
        first = session.scalar(select(Answer).where(Answer.response_id == responses[0].id,
                                                    Answer.question_id == comments.id))
        first.value = HOSTILE
        invitation = session.get(Invitation, responses[0].invitation_id)
        invitation.profile = {**invitation.profile, "tenure": "social_rented",
                              "extra": {"carer": "@SUM(1+1)*cmd|' /C calc'!A0"}}
        session.commit()


def test_text_that_would_be_a_formula_is_inert_in_csv_and_excel_and_kept_in_spss(
        surveys_app, tmp_path):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=12)
    add_questions_and_hostile_values(surveys_app, survey_id)
    analyst = keys["council"]["analyst"]

    rows = list(csv.DictReader(io.StringIO(
        download(surveys_app, analyst, survey_id, "csv").data.decode("utf-8"))))
    assert rows[0]["comments"] == "'" + HOSTILE
    assert rows[0]["extra_carer"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    # Real numbers stay numbers: a negative answer to a number question, and the weight.
    assert rows[0]["change"] == "-3" and rows[1]["change"] == "1"
    assert float(rows[0]["weight"]) > 0 and not rows[0]["weight"].startswith("'")

    book = load_workbook(io.BytesIO(download(surveys_app, analyst, survey_id, "xlsx").data))
    sheet = book["data"]
    header = [cell.value for cell in sheet[1]]
    first = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert first["comments"].value == HOSTILE and first["comments"].data_type == "s"
    assert first["extra_carer"].data_type == "s"
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row
                if cell.data_type == "f"]
    assert first["change"].value == -3 and first["change"].data_type == "n"

    path = tmp_path / "export.sav"
    path.write_bytes(download(surveys_app, analyst, survey_id, "sav").data)
    frame, _ = pyreadstat.read_sav(str(path))
    assert frame["comments"][0] == HOSTILE
    assert frame["change"][0] == -3.0


def test_exports_carry_labels_measures_and_numbers_an_analyst_can_use(surveys_app, tmp_path):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=12)
    add_questions_and_hostile_values(surveys_app, survey_id)
    analyst = keys["council"]["analyst"]

    path = tmp_path / "export.sav"
    path.write_bytes(download(surveys_app, analyst, survey_id, "sav").data)
    frame, meta = pyreadstat.read_sav(str(path))
    labels = meta.variable_value_labels
    assert labels["visited"] == {1.0: "Yes", 2.0: "No"}
    assert labels["tenure"][2.0] == "Social rented"
    assert labels["gender"][1.0] == "Female" and labels["disability"][2.0] == "Not disabled"
    assert labels["age_band"][2.0] == "25 to 34"
    assert labels["ethnicity"][4.0] == "White"
    assert set(labels["area"].values()) == set(AREAS)
    assert labels["deprivation_decile"][1.0] == "1 (most deprived)"
    # A category the labels do not know is coded and labelled as it is, not dropped.
    assert "owner" in labels["tenure"].values() and frame["tenure"].notna().all()
    measure = meta.variable_measure
    assert (measure["priority"], measure["visited"], measure["gender"]) == ("nominal",) * 3
    assert (measure["feel_safe"], measure["age_band"]) == ("ordinal", "ordinal")
    assert (measure["change"], measure["weight"]) == ("scale", "scale")

    book = load_workbook(io.BytesIO(download(surveys_app, analyst, survey_id, "xlsx").data))
    sheet = book["data"]
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, (cell.value for cell in sheet[2]), strict=True))
    assert isinstance(first["feel_safe"], int) and isinstance(first["change"], int)
    assert isinstance(first["deprivation_decile"], int)

    rows = download(surveys_app, analyst, survey_id, "json").json["rows"]
    assert rows[0]["feel_safe"] == 1 and rows[0]["change"] == -3


def test_a_yes_no_question_is_tabulated_like_single_choice(surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=24)
    add_questions_and_hostile_values(surveys_app, survey_id)
    response = surveys_app.test_client().get(
        f"/api/v1/analysis/tables?survey_ids={survey_id}&question=visited",
        headers=bearer(keys["council"]["officer"]))
    assert response.status_code == 200, response.json
    table = response.json["table"]
    assert table["rows"] == ["yes", "no"]
    counts = {c["row"]: c["count"] for c in table["cells"] if c["column"] == "all"}
    assert counts == {"yes": 12, "no": 12}


def test_a_closing_survey_sends_feedback_weighted_yes_no_results(surveys_app):
    agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=60, status="fieldwork")
    add_questions_and_hostile_values(surveys_app, survey_id)
    payload = closed_payload(surveys_app, survey_id)
    visited = next(q for q in payload["questions"] if q["code"] == "visited")
    assert visited["counts"] == {"yes": 30, "no": 30}
    assert set(visited["weighted_percent"]) == {"yes", "no"}
    assert abs(sum(visited["weighted_percent"].values()) - 100) < 0.05
    assert visited["weighted_percent"]["yes"] != 50.0


def test_exports_name_each_ward_as_the_census_file_does(surveys_app, tmp_path):
    """A reader sees "Riverside Central", not E05000001, wherever the census names the ward."""
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    with surveys_app.app_context(), new_session() as session:
        for target in session.scalars(select(PopulationTarget).where(
                PopulationTarget.area == AREAS[0])):
            target.area_name = "Riverside Central"
        session.commit()
    survey_id = seed_survey(surveys_app, respondents=12)
    path = tmp_path / "export.sav"
    path.write_bytes(download(surveys_app, keys["council"]["analyst"], survey_id, "sav").data)
    _, meta = pyreadstat.read_sav(str(path))
    assert set(meta.variable_value_labels["area"].values()) == {"Riverside Central", AREAS[1]}


def test_an_export_is_weighted_by_the_dimensions_asked_for(surveys_app, pump, tmp_path):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=30)
    client = surveys_app.test_client()
    analyst = bearer(keys["council"]["analyst"])
    refused = client.post("/api/v1/analysis/exports", headers=analyst, json={
        "survey_ids": [survey_id], "format": "sav", "dimensions": ["shoe_size"]})
    assert refused.status_code == 422 and "dimensions" in refused.json["errors"]["json"]
    created = client.post("/api/v1/analysis/exports", headers=analyst, json={
        "survey_ids": [survey_id], "format": "sav", "dimensions": ["gender"]})
    assert created.status_code == 202 and created.json["dimensions"] == ["gender"]
    pump()
    path = tmp_path / "by-gender.sav"
    path.write_bytes(client.get(f"/api/v1/analysis/exports/{created.json['id']}/file",
                                headers=analyst).data)
    frame, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
    # Weighted by gender alone: men and women each weigh to half, whatever their ages.
    shares = frame.groupby("gender")["weight"].sum() / frame["weight"].sum()
    assert shares.round(3).to_dict() == {"Female": 0.5, "Male": 0.5}
    ages = frame.groupby("age_band")["weight"].sum() / frame["weight"].sum()
    assert ages.round(3).nunique() > 1  # not raked to the age thirds
