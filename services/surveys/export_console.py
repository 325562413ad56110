"""The analyst's downloads in the console, as use cases: respondent-level files built by the
worker (the analysis API's exports) or while the analyst waits (its dataset), for the
analyst's own agency only, each pull audited under the staff member's email (pulls.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys import pulls, queries
from services.surveys.analysis_console import Chooser, chooser
from services.surveys.exports import FORMATS, write_export
from services.surveys.models import ExportJob, Survey
from services.surveys.pulls import INLINE_EXPORT_ROWS, Puller
from services.surveys.weighting import DEFAULT_CAP
from shared.profile import dimension_label
from shared.statuses import ExportStatus

FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel", "sav": "SPSS"}
FORMAT_HINTS = {"csv": "UTF-8 text that any spreadsheet or statistics package opens",
                "xlsx": "the data and a codebook of what every column and value means",
                "sav": "every variable and value labelled, categories coded"}
FORM_LABELS = {"wide": "One row per respondent", "long": "One row per answer"}
STATUS_LABELS = {ExportStatus.QUEUED: "Waiting to start", ExportStatus.RUNNING: "Being built",
                 ExportStatus.DONE: "Ready to download", ExportStatus.FAILED: "Failed"}


@dataclass
class ExportView:
    """An export as its page shows it: in words, with its progress as a 5 % step."""

    job: ExportJob
    surveys: list[str]
    format_label: str
    form_label: str
    weighted_by: str
    status_label: str
    running: bool
    step: int
    by: str  # who asked: a staff member's email, or an API key's prefix

    @property
    def done(self) -> bool:
        return self.job.status == ExportStatus.DONE


@dataclass
class ExportDesk:
    chooser: Chooser
    exports: list[ExportView]
    formats: list[tuple[str, str]]
    forms: list[tuple[str, str]]
    inline_rows: int = INLINE_EXPORT_ROWS


def _titles(session: Session, jobs: Sequence[ExportJob]) -> dict[int, str]:
    ids = {i for job in jobs for i in job.survey_ids or []}
    return dict(session.execute(select(Survey.id, Survey.title).where(Survey.id.in_(ids))).all()
                ) if ids else {}


def _view(job: ExportJob, titles: dict[int, str]) -> ExportView:
    status = ExportStatus(job.status)
    progress = 100 if status == ExportStatus.DONE else max(0, min(job.progress or 0, 100))
    return ExportView(
        job, [titles.get(i, f"Survey {i}") for i in job.survey_ids or []],
        FORMAT_LABELS[job.format], FORM_LABELS[job.form],
        ", ".join(dimension_label(d) for d in job.dimensions or [])
        or "Every dimension the population figures cover",
        STATUS_LABELS[status], status in (ExportStatus.QUEUED, ExportStatus.RUNNING),
        progress - progress % 5, job.actor or job.key_prefix)


def export_desk(session: Session, *, agency: str) -> ExportDesk:
    """What the export form offers (the agency's surveys, formats, forms) and its latest
    exports."""
    jobs = queries.agency_exports(session, agency=agency)
    titles = _titles(session, jobs)
    return ExportDesk(chooser(session, agency=agency), [_view(j, titles) for j in jobs],
                      [(f, f"{FORMAT_LABELS[f]}: {FORMAT_HINTS[f]}") for f in FORMATS],
                      list(FORM_LABELS.items()))


def export_choices() -> dict:
    """A download form's formats and forms, with how many rows download while one waits."""
    return {"formats": [(f, FORMAT_LABELS[f]) for f in FORMATS],
            "forms": list(FORM_LABELS.items()), "inline_rows": INLINE_EXPORT_ROWS}


def export_progress(session: Session, *, agency: str, export_id: int) -> ExportView:
    """One of the agency's exports and how far it has got; another agency's is not found."""
    job = queries.own_export(session, agency=agency, export_id=export_id)
    return _view(job, _titles(session, [job]))


@dataclass(frozen=True)
class DownloadFile:
    content: bytes
    content_type: str
    filename: str


def file_name(stem: str, fmt: str) -> str:
    return f"{stem}.{FORMATS[fmt][1]}"


def export_file(session: Session, *, who: Puller, export_id: int) -> DownloadFile:
    """A finished export's file; the download is audited."""
    job = pulls.download(session, who=who, export_id=export_id)
    return DownloadFile(job.content, FORMATS[job.format][0],
                        file_name(f"civicpanel-export-{job.id}", job.format))


def dataset_file(session: Session, *, who: Puller, survey_ids: Sequence[int],
                 dimensions: Sequence[str], form: str, fmt: str) -> DownloadFile:
    """The merged dataset as a file built while the analyst waits; refused
    (pulls.TooBigToWaitFor) above INLINE_EXPORT_ROWS rows, before it is built."""
    dataset = pulls.dataset(session, who=who, survey_ids=survey_ids, dimensions=dimensions,
                            cap=DEFAULT_CAP, form=form, fmt=fmt)
    stem = f"civicpanel-{'-'.join(map(str, survey_ids))}-{form}"
    return DownloadFile(write_export(dataset, fmt), FORMATS[fmt][0], file_name(stem, fmt))
