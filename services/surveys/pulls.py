"""What an agency pulls from the analysis API (weights, tables, respondent-level data, export
files), each pull written to the audit log in the transaction that serves it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.surveys.analysis import (
    Dataset,
    SurveyWeights,
    dataset_size,
    merged_dataset,
    published_weighting,
    readable_surveys,
    record_pull,
    survey_weights,
    weighted_table,
)
from services.surveys.models import ExportJob, Survey
from services.surveys.queries import own_export
from services.surveys.tables import published_table
from shared.bus import Bus
from shared.errors import RuleBroken
from shared.statuses import ExportStatus

# Above this many rows a file is built by the worker: POST /api/v1/analysis/exports.
INLINE_EXPORT_ROWS = 20_000


@dataclass(frozen=True)
class Puller:
    """Who pulls: their agency, role and key prefix (an API key) or email (a staff member in
    the console), as the audit log records them."""

    agency: str
    role: str
    key_prefix: str = ""
    actor: str = ""


def _weights(session: Session, surveys: Sequence[Survey], dimensions: Sequence[str],
             cap: float | None) -> dict[int, SurveyWeights]:
    # No dimensions asked for: every one the population targets cover.
    return {s.id: survey_weights(session, s, dimensions=list(dimensions) or None, cap=cap)
            for s in surveys}


def _audit(session: Session, who: Puller, action: str, survey_ids: Sequence[int],
           detail: dict, rows: int) -> None:
    record_pull(session, agency=who.agency, role=who.role, key_prefix=who.key_prefix,
                actor=who.actor, action=action, survey_ids=survey_ids, detail=detail, rows=rows)


def weighting(session: Session, *, who: Puller, survey_ids: Sequence[int],
              dimensions: Sequence[str], cap: float | None, threshold: int) -> dict:
    """How each survey weights to its population, small cells hidden."""
    surveys = readable_surveys(session, agency=who.agency, survey_ids=survey_ids)
    weights = _weights(session, surveys, dimensions, cap)
    _audit(session, who, "weights", survey_ids, {"dimensions": list(dimensions)}, 0)
    session.commit()
    return {"surveys": [published_weighting(w, threshold) for w in weights.values()]}


def table(session: Session, *, who: Puller, survey_ids: Sequence[int], dimensions: Sequence[str],
          cap: float | None, question: str, by: str, threshold: int) -> dict:
    """A question by a group, weighted, with intervals and bases; small cells hidden."""
    surveys = readable_surveys(session, agency=who.agency, survey_ids=survey_ids)
    weights = _weights(session, surveys, dimensions, cap)
    found = weighted_table(session, surveys, weights, question=question, by=by)
    _audit(session, who, "table", survey_ids, {"question": question, "by": by}, 0)
    session.commit()
    return {"question": question, "by": by, "table": published_table(found, threshold),
            "weighting": [published_weighting(w, threshold) for w in weights.values()]}


def dataset(session: Session, *, who: Puller, survey_ids: Sequence[int],
            dimensions: Sequence[str], cap: float | None, form: str, fmt: str) -> Dataset:
    """Respondent-level data, refused (413) before it is built when too big to wait for."""
    surveys = readable_surveys(session, agency=who.agency, survey_ids=survey_ids)
    rows = dataset_size(session, [s.id for s in surveys], form=form)
    if rows > INLINE_EXPORT_ROWS:
        raise TooBigToWaitFor(rows, INLINE_EXPORT_ROWS)
    weights = _weights(session, surveys, dimensions, cap)
    built = merged_dataset(session, surveys, weights, form=form)
    _audit(session, who, f"dataset.{fmt}", survey_ids, {"form": form}, len(built.rows))
    session.commit()
    return built


class TooBigToWaitFor(RuleBroken):
    location = "query"

    def __init__(self, rows: int, limit: int = INLINE_EXPORT_ROWS):
        self.rows, self.limit = rows, limit
        super().__init__("Too many rows to build while you wait: POST /api/v1/analysis/exports "
                         "to build it in the background.",
                         {"survey_ids": [f"{rows} rows."]}, status=413)


def request_export(session: Session, bus: Bus, *, who: Puller, survey_ids: Sequence[int],
                   form: str, fmt: str, dimensions: Sequence[str] = ()) -> ExportJob:
    """Queue an export file for the worker to build, weighted by `dimensions` (none: every
    one the population figures cover); the job to poll."""
    readable_surveys(session, agency=who.agency, survey_ids=survey_ids)
    job = ExportJob(agency=who.agency, role=who.role, key_prefix=who.key_prefix,
                    actor=who.actor, survey_ids=list(survey_ids),
                    dimensions=list(dimensions), format=fmt, form=form)
    session.add(job)
    session.flush()
    bus.send(session, "surveys.export_dataset", {"export_id": job.id})
    session.commit()
    return job


def download(session: Session, *, who: Puller, export_id: int) -> ExportJob:
    """A finished export of the agency, with its content; the download is audited."""
    job = own_export(session, agency=who.agency, export_id=export_id, with_content=True)
    if job.status != ExportStatus.DONE:
        raise RuleBroken(f"This export is {job.status} ({job.progress}% done).", status=409)
    _audit(session, who, f"download.{job.format}", job.survey_ids, {"export_id": job.id},
           job.row_count)
    session.commit()
    return job
