"""The analyst's forms: ticked surveys and dimensions read by the analysis API's own schemas, so
a page takes what the API takes; what they refuse comes back as an error summary's lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.surveys.analysis_api import (
    DatasetQuerySchema,
    ExportRequestSchema,
    SurveysQuerySchema,
    TableQuerySchema,
)
from services.surveys.builder_forms import Problems
from shared.input_guard import id_from_text
from shared.profile import PROFILE_DIMENSIONS

MESSAGES = {
    "survey_ids": "Choose at least one survey",
    "dimensions": "Choose dimensions from the list",
    "question": "Choose a question",
    "by": "Choose what to break the answers down by",
    "format": "Choose a file format",
    "form": "Choose one row per respondent or one per answer",
}
FILE_FORMATS = ("csv", "xlsx", "sav")  # what a page downloads (the API also answers JSON)


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

    @property
    def file_query(self) -> list[tuple[str, str]]:
        """The selection as a download's query string, with its format and form."""
        return [*self.query, ("format", self.format), ("form", self.form)]


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
    """An export's form: surveys, dimensions, format and form, as POST .../exports takes them;
    what was ticked is kept to show again beside what is refused."""
    raw = {"survey_ids": form.getlist("survey_ids"), "dimensions": form.getlist("dimensions"),
           "format": form.get("format", ""), "form": form.get("form", "wide")}
    try:
        loaded = ExportRequestSchema().load(raw)
    except ValidationError as error:
        return Selection(_ints(raw["survey_ids"]), list(raw["dimensions"]), format=raw["format"],
                         form=raw["form"],
                         problems=_refused(error, ("survey_ids", "dimensions", "format", "form")))
    return Selection(loaded["survey_ids"], loaded["dimensions"], format=loaded["format"],
                     form=loaded["form"])


def dataset_selection(args: MultiDict) -> Selection:
    """A download while the analyst waits: GET .../dataset's query, as a file."""
    raw = {**_raw(args), "format": args.get("format", ""), "form": args.get("form", "wide")}
    if not raw["dimensions"]:
        raw.pop("dimensions")
    try:
        loaded = DatasetQuerySchema().load(raw)
        if loaded["format"] not in FILE_FORMATS:
            raise ValidationError({"format": ["Not a file."]})
    except ValidationError as error:
        return Selection(problems=_refused(error, ("survey_ids", "dimensions", "format", "form")))
    return Selection(loaded["survey_ids"], loaded["dimensions"], format=loaded["format"],
                     form=loaded["form"])


def _ints(values: list[str]) -> list[int]:
    return [i for i in map(id_from_text, values) if i is not None]


def prefilled(args: MultiDict) -> Selection:
    """An export form ticked as the page it came from was (its surveys and dimensions)."""
    return Selection(_ints(args.getlist("survey_ids")),
                     [d for d in args.getlist("dimensions") if d in PROFILE_DIMENSIONS],
                     format=args.get("format", ""), form=args.get("form", "wide"))
