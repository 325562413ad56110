"""Writing a merged dataset as CSV (UTF-8), Excel (data + codebook) or SPSS .sav with labels."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable

import pandas as pd
import pyreadstat
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import Session

from services.surveys.analysis import (
    AnalysisRefused,
    Dataset,
    Variable,
    merged_dataset,
    readable_surveys,
    record_pull,
    refresh_cells,
    survey_weights,
)
from services.surveys.models import ExportJob
from shared.bus import utcnow
from shared.db import new_session
from shared.profile import inert_text
from shared.service import bus
from shared.statuses import ExportStatus, may_move

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "sav": ("application/x-spss-sav", "sav"),
}
Progress = Callable[[float], None]


def _quiet(_fraction: float) -> None:
    pass


def write_export(dataset: Dataset, fmt: str, progress: Progress = _quiet) -> bytes:
    """The dataset as the bytes of a file in `fmt`; `progress` hears fractions done."""
    writer = {"csv": to_csv, "xlsx": to_xlsx, "sav": to_sav}[fmt]
    return writer(dataset, progress)


def _chunks(rows: list, progress: Progress, size: int = 5000):
    total = max(len(rows), 1)
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
        progress(min(1.0, (start + size) / total))


def _csv_value(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return inert_text(value)
    return value


def to_csv(dataset: Dataset, progress: Progress = _quiet) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    names = dataset.names
    writer.writerow([inert_text(n) for n in names])
    for chunk in _chunks(dataset.rows, progress):
        writer.writerows([[_csv_value(row.get(n)) for n in names] for row in chunk])
    return buffer.getvalue().encode("utf-8")


def codebook_rows(variables: list[Variable]) -> list[list]:
    """One line per variable, then one per labelled value: what every column means."""
    lines: list[list] = []
    for variable in variables:
        lines.append([variable.name, variable.label, variable.kind, None, None])
        for code, label in variable.values.items():
            lines.append([variable.name, None, None, code, label])
    return lines


def _xlsx_row(sheet, values: list) -> list:
    """A row whose text is stored as text cells: openpyxl would make "=..." a live formula."""
    row = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append(value)
    return row


def to_xlsx(dataset: Dataset, progress: Progress = _quiet) -> bytes:
    # write_only streams rows to the file, so memory does not grow with the dataset.
    book = Workbook(write_only=True)
    data = book.create_sheet("data")
    names = dataset.names
    data.append(_xlsx_row(data, names))
    for chunk in _chunks(dataset.rows, progress):
        for row in chunk:
            data.append(_xlsx_row(data, [row.get(n) for n in names]))
    codebook = book.create_sheet("codebook")
    codebook.append(["variable", "label", "type", "value", "value label"])
    for line in codebook_rows(dataset.variables):
        codebook.append(_xlsx_row(codebook, line))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _spss_codes(variable: Variable, values: list) -> dict[str, int] | None:
    """Numeric codes for a labelled string variable (1, 2, ...): SPSS labels numbers best.

    Values the labels do not know (an older category) get codes after them, labelled as
    they are, so none is lost."""
    if variable.kind != "string" or not variable.values:
        return None
    order = list(variable.values) + sorted(
        {v for v in values if v is not None and v not in variable.values})
    return {value: index for index, value in enumerate(order, start=1)}


def _spss_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_sav(dataset: Dataset, progress: Progress = _quiet) -> bytes:
    """An SPSS file: every variable labelled and measured; categories coded with labels."""
    columns: dict[str, list] = {}
    value_labels: dict[str, dict] = {}
    for variable in dataset.variables:
        values = [row.get(variable.name) for row in dataset.rows]
        codes = _spss_codes(variable, values)
        if codes is not None:
            columns[variable.name] = [codes.get(v) if v is not None else None for v in values]
            value_labels[variable.name] = {code: variable.values.get(value, value)
                                           for value, code in codes.items()}
        elif variable.kind == "number":
            columns[variable.name] = [_number(v) for v in values]
            if variable.values:
                value_labels[variable.name] = {_number(k): label
                                               for k, label in variable.values.items()}
        else:
            columns[variable.name] = [_spss_text(v) for v in values]
    progress(0.5)
    frame = pd.DataFrame({name: pd.Series(values, dtype=_dtype(name, dataset, value_labels))
                          for name, values in columns.items()})
    handle, path = tempfile.mkstemp(suffix=".sav")
    os.close(handle)
    try:
        pyreadstat.write_sav(frame, path,
                             column_labels={v.name: v.label[:250] for v in dataset.variables},
                             variable_value_labels=value_labels,
                             variable_measure={v.name: v.measure for v in dataset.variables})
        with open(path, "rb") as file:
            content = file.read()
    finally:
        os.unlink(path)
    progress(1.0)
    return content


def _dtype(name: str, dataset: Dataset, value_labels: dict) -> str:
    variable = next(v for v in dataset.variables if v.name == name)
    return "float64" if variable.kind == "number" or name in value_labels else "object"


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def run_export(envelope: dict) -> bool:
    """The surveys.export_dataset job: claim the export once, then build it with progress.

    The claim commits on its own so the long build holds no lock; progress goes to the
    export row in short transactions the API reads while the worker is still busy.
    """
    with new_session() as session:
        bus().handle(session, "surveys.export_dataset", envelope, _claim)
    export_id = envelope["payload"]["export_id"]
    with new_session() as session:
        job = session.get(ExportJob, export_id)
        if job is None or job.status == ExportStatus.DONE:
            return False
        try:
            content, rows = build_export(session, job, _progress_reporter(export_id))
            failure = None
        except AnalysisRefused as exc:
            content, rows, failure = None, 0, str(exc)
        # The build only read; a fresh transaction writes, after the progress updates.
        session.rollback()
    with new_session() as session:
        job = session.get(ExportJob, export_id)
        outcome = ExportStatus.FAILED if failure is not None else ExportStatus.DONE
        if not may_move(job.status, outcome, ExportStatus):
            return False  # another worker finished it first
        job.finished_at = utcnow()
        if failure is not None:
            job.status, job.error = outcome, failure
        else:
            job.content, job.row_count, job.progress, job.status = content, rows, 100, outcome
            record_pull(session, agency=job.agency, role=job.role, key_prefix=job.key_prefix,
                        actor=job.actor, action=f"export.{job.format}",
                        survey_ids=job.survey_ids,
                        detail={"form": job.form, "export_id": job.id}, rows=rows)
        session.commit()
    return failure is None


def _claim(session: Session, payload: dict) -> None:
    job = session.get(ExportJob, payload["export_id"])
    if job is not None and may_move(job.status, ExportStatus.RUNNING, ExportStatus):
        job.status = ExportStatus.RUNNING


def _progress_reporter(export_id: int) -> Progress:
    last = [-1]

    def report(fraction: float) -> None:
        percent = int(5 + 90 * fraction)
        if percent - last[0] < 5:  # a write every 5%, not every chunk
            return
        last[0] = percent
        with new_session() as session:
            job = session.get(ExportJob, export_id)
            if job is not None:
                job.progress = percent
                session.commit()

    return report


def build_export(session: Session, job: ExportJob, progress: Progress = _quiet
                 ) -> tuple[bytes, int]:
    """The file an export job asked for, read with the requesting agency's rights."""
    surveys = readable_surveys(session, agency=job.agency, survey_ids=job.survey_ids)
    # Counting cells writes; commit it now so the build after it holds no write lock
    # while progress is written from other sessions.
    refresh_cells(session, [s.id for s in surveys])
    session.commit()
    weights = {s.id: survey_weights(session, s, dimensions=list(job.dimensions or []) or None)
               for s in surveys}
    dataset = merged_dataset(session, surveys, weights, form=job.form)
    progress(0.0)
    return write_export(dataset, job.format, progress), len(dataset.rows)
