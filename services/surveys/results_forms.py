"""The analyst's forms: ticked surveys and dimensions read by the analysis API's own schemas, so
a page takes what the API takes; what they refuse comes back as an error summary's lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.surveys.analysis_api import (
    ExportRequestSchema,
    SurveysQuerySchema,
    TableQuerySchema,
)
from services.surveys.builder_forms import Problems

MESSAGES = {
    "survey_ids": "Choose at least one survey",
    "dimensions": "Choose dimensions from the list",
    "question": "Choose a question",
    "by": "Choose what to break the answers down by",
    "format": "Choose a file format",
    "form": "Choose one row per respondent or one per answer",
}


@dataclass
class Selection:
    """What the analyst asked for, as the API's query would carry it."""

    survey_ids: list[int] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    question: str = ""
    by: str = "survey"
    format: str = ""
    form: str = "wide"
    problems: Problems = field(default_factory=Problems)

    @property
    def query(self) -> list[tuple[str, str]]:
        """The selection as a page's query string (repeated names, as checkboxes send)."""
        return ([("survey_ids", str(i)) for i in self.survey_ids]
                + [("dimensions", d) for d in self.dimensions])


def _refused(error: ValidationError, order: tuple[str, ...]) -> Problems:
    found = Problems()
    for name in order:
        if name in error.messages:
            found.by_field[name] = [MESSAGES[name]]
            found.summary.append((name, MESSAGES[name]))
    return found


def _raw(args: MultiDict) -> dict:
    # The API takes comma-separated lists; checkboxes send a name once per tick.
    return {"survey_ids": ",".join(args.getlist("survey_ids")),
            "dimensions": ",".join(args.getlist("dimensions"))}


def surveys_selection(args: MultiDict) -> Selection:
    raw = _raw(args)
    if not raw["dimensions"]:
        raw.pop("dimensions")
    try:
        loaded = SurveysQuerySchema().load(raw)
    except ValidationError as error:
        return Selection(problems=_refused(error, ("survey_ids", "dimensions")))
    return Selection(loaded["survey_ids"], loaded["dimensions"])


def table_selection(args: MultiDict) -> Selection:
    raw = {**_raw(args), "question": args.get("question", ""), "by": args.get("by", "survey")}
    if not raw["dimensions"]:
        raw.pop("dimensions")
    try:
        loaded = TableQuerySchema().load(raw)
    except ValidationError as error:
        return Selection(problems=_refused(error, ("survey_ids", "dimensions", "question",
                                                   "by")))
    return Selection(loaded["survey_ids"], loaded["dimensions"], loaded["question"],
                     loaded["by"])


def export_selection(form: MultiDict) -> Selection:
    raw = {"survey_ids": form.getlist("survey_ids"), "format": form.get("format", ""),
           "form": form.get("form", "wide")}
    try:
        loaded = ExportRequestSchema().load(raw)
    except ValidationError as error:
        return Selection(problems=_refused(error, ("survey_ids", "format", "form")))
    return Selection(loaded["survey_ids"], format=loaded["format"], form=loaded["form"])
