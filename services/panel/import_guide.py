"""What the import pages say about the CSV (docs/panel-imports.md): its columns, a template
to fill in, how far a run has gone, and its bad rows as a file that is safe to open."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from services.panel.models import MemberImport
from services.panel.schemas import EXTRA_PREFIX
from shared.profile import CATEGORIES, LABELS, ExtraAttribute, inert_text

RUNNING = ("queued", "running")
STATUS_LABELS = {"queued": "Waiting to start", "running": "Importing", "finished": "Finished",
                 "failed": "Stopped: the file could not be imported"}
SHOWN_PROBLEMS = 500  # on the page; the download has every one


@dataclass(frozen=True)
class Column:
    name: str
    required: str
    holds: str
    values: str


def _choices(dimension: str) -> str:
    return ", ".join(f"{code} ({LABELS[dimension][code]})" if LABELS[dimension][code] != code
                     else code for code in CATEGORIES[dimension])


def columns(declared: dict[str, ExtraAttribute]) -> list[Column]:
    """Every column a file may have, in the order of docs/panel-imports.md."""
    fixed = [
        Column("external_id", "yes", "The member's id in your own panel",
               "1 to 100 characters, unique in the file; importing it again updates them"),
        Column("email", "for email", "Email address", "not held by another member"),
        Column("phone", "for text messages", "UK mobile number", "like 07700 900123"),
        Column("preferred_channel", "yes", "How to contact them", "email or sms"),
        Column("language", "no", "Language of messages", "en (English, the default) or cy"),
        Column("age_band", "yes", "Age", _choices("age_band")),
        Column("gender", "yes", "Gender", _choices("gender")),
        Column("ethnicity", "yes", "Ethnic group", _choices("ethnicity")),
        Column("disability", "yes", "Disability", _choices("disability")),
        Column("area", "yes", "Ward", "the ward's GSS code: E05 or W05 and six digits"),
        Column("deprivation_decile", "no", "Deprivation decile", "1 (most deprived) to 10"),
        Column("tenure", "no", "Housing tenure", _choices("tenure")),
        Column("consent_surveys", "yes", "Agreed to survey invitations", "yes or no"),
        Column("consent_outcomes", "yes", "Agreed to hear what was decided", "yes or no"),
    ]
    return fixed + [Column(f"{EXTRA_PREFIX}{name}", "no", f"Your attribute “{name}”",
                           attribute.describe()) for name, attribute in declared.items()]


def template_csv(declared: dict[str, ExtraAttribute]) -> str:
    """A header row and one example member, ready to fill in."""
    example = {"external_id": "P0001", "email": "someone@example.org", "phone": "",
               "preferred_channel": "email", "language": "en", "age_band": "35-44",
               "gender": "female", "ethnicity": "white", "disability": "not_disabled",
               "area": "E05000001", "deprivation_decile": "4", "tenure": "owned",
               "consent_surveys": "yes", "consent_outcomes": "yes"}
    for name, attribute in declared.items():
        example[f"{EXTRA_PREFIX}{name}"] = attribute.values[0] if attribute.values else ""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(example))
    writer.writeheader()
    writer.writerow(example)
    return buffer.getvalue()


def problems_csv(run: MemberImport) -> str:
    """Every bad row of a run, as line, field and reason, with no cell a spreadsheet runs."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["line", "field", "reason"])
    writer.writerows([problem["line"], inert_text(str(problem["field"])),
                      inert_text(str(problem["reason"]))] for problem in run.errors or [])
    return buffer.getvalue()


@dataclass(frozen=True)
class Progress:
    status: str
    label: str
    processed: int
    total: int
    percent: int
    step: int  # the percentage rounded down to a 5 % step: the bar's CSS class
    running: bool


def progress(run: MemberImport) -> Progress:
    percent = 100 if run.status in ("finished", "failed") and not run.total_rows else (
        int(100 * run.processed_rows / run.total_rows) if run.total_rows else 0)
    return Progress(run.status, STATUS_LABELS.get(run.status, run.status), run.processed_rows,
                    run.total_rows, percent, percent // 5 * 5, run.status in RUNNING)
