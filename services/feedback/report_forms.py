"""The report pages' forms as the API's documents: what a page posts becomes the JSON a client
would send, judged by the API's schemas in the API's words, and the API's errors are put
against the fields that caused them, labelled for the GOV.UK error summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from services.feedback.reports import ReportRuleBroken

LABELS = {
    "we_did": "What we did", "why": "Why", "decided_on": "Decision date",
    "decision_relation": "How the decision relates to what most people preferred",
    "preference_question": "The answer the decision chose",
    "chosen": "The answer the decision chose", "chosen_answer": "The answer the decision chose",
    "action": "Action", "agency": "Responsible agency", "owner": "Owner", "due_on": "Due date",
    "text": "Progress", "status": "Status", "written_on": "Date of the update",
    "reason": "Why it was dropped",
}
# API fields shown on the page under another field's id.
ANCHORS = {"preference_question": "chosen", "chosen_answer": "chosen"}
# What a publish refusal names that is not a field of the form.
PUBLISH_ANCHORS = {"status": "we_did"}
STATUS_CHOICES = (("in_progress", "In progress"), ("done", "Done"),
                  ("dropped", "Dropped (say why below)"))


@dataclass
class Problems:
    """Errors by field id, and the error summary's (id, words) in the order given."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.summary)


def problems(messages: dict, fallback: str, anchors: dict | None = None) -> Problems:
    """The API's errors by field as the page names them: each against its field."""
    found = Problems()
    for name, reasons in messages.items():
        field_id = {**ANCHORS, **(anchors or {})}.get(name, name)
        if name == "_schema" or field_id not in LABELS:
            field_id = fallback
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            found.by_field.setdefault(field_id, []).append(str(reason))
            label = LABELS.get(name) if name in LABELS else ""
            text = f"{label}: {reason}" if label else str(reason)
            if (field_id, text) not in found.summary:
                found.summary.append((field_id, text))
    return found


def refused(broken: ReportRuleBroken, fallback: str, anchors: dict | None = None) -> Problems:
    if broken.errors:
        return problems(broken.errors, fallback, anchors)
    return Problems({fallback: [str(broken)]}, [(fallback, str(broken))])


def parsed(schema: Schema, document: dict) -> dict:
    """`document` loaded by the API's schema; its errors, by field, as a broken rule."""
    try:
        return schema.load(document)
    except ValidationError as error:
        raise ReportRuleBroken("Check what you entered.", error.messages) from error


# -- reading what was posted --------------------------------------------------------------


def _text(form: MultiDict, name: str) -> str:
    return form.get(name, "").strip()


def _date(form: MultiDict, name: str) -> str | None:
    """A GOV.UK date input's three boxes as an ISO date; the schema judges whether it is one."""
    day, month, year = (_text(form, f"{name}-{part}") for part in ("day", "month", "year"))
    if not (day or month or year):
        return None
    return f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}"


def _present(**values) -> dict:
    """What was filled in: a blank field is left as it was, as a PATCH without it would."""
    return {key: value for key, value in values.items() if value not in (None, "")}


def decision_changes(form: MultiDict) -> dict:
    """The decision form as the API's PATCH of a report."""
    code, _, answer = _text(form, "chosen").partition(":")
    return _present(we_did=_text(form, "we_did"), why=_text(form, "why"),
                    decided_on=_date(form, "decided_on"),
                    decision_relation=_text(form, "decision_relation"),
                    preference_question=code if answer else None,
                    chosen_answer=answer or None)


def decision_values(report) -> dict:
    """What the decision form shows of a report."""
    chosen = (f"{report.preference_question}:{report.chosen_answer}"
              if report.preference_question and report.chosen_answer else "")
    return {"we_did": report.we_did, "why": report.why, "decided_on": report.decided_on,
            "decision_relation": report.decision_relation, "chosen": chosen}


def decision_typed(form: MultiDict) -> dict:
    """What was typed into the decision form, to show again beside its errors."""
    return {"we_did": _text(form, "we_did"), "why": _text(form, "why"),
            "decided_on": _date(form, "decided_on"),
            "decision_relation": _text(form, "decision_relation"),
            "chosen": _text(form, "chosen")}


def commitment_input(form: MultiDict) -> dict:
    return {"action": _text(form, "action"), "agency": _text(form, "agency"),
            "due_on": _date(form, "due_on") or "", **_present(owner=_text(form, "owner"))}


def progress_input(form: MultiDict) -> dict:
    return _present(text=_text(form, "text"), status=_text(form, "status"),
                    written_on=_date(form, "written_on"), reason=_text(form, "reason"))


def date_parts(value) -> dict[str, str]:
    """A date (or an ISO string) as the GOV.UK date input's three boxes."""
    if not value:
        return {"day": "", "month": "", "year": ""}
    if isinstance(value, str):
        year, _, rest = value.partition("-")
        month, _, day = rest.partition("-")
        return {"day": day.lstrip("0"), "month": month.lstrip("0"), "year": year}
    if isinstance(value, date):
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
    return {"day": "", "month": "", "year": ""}
