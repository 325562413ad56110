"""The builder's forms as the API's documents: what a page posts becomes the JSON a client
would send (so the API's schemas judge it, with the API's words), and the API's error
paths become the ids of the fields that caused them, labelled for the error summary.

A page renders from the document it edits (the draft as the API takes it, with what was
posted on top), so a field's id is its path in that document, joined by "-".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from services.surveys.lifecycle import SurveyRuleBroken
from services.surveys.models import Question
from services.surveys.questions import choices
from shared.profile import CATEGORIES, PROFILE_DIMENSIONS, category_label, dimension_label

CHOICE_TYPES = ("single_choice", "multiple_choice")
QUESTION_TYPE_LABELS = {
    "single_choice": "Single choice (one option)", "multiple_choice": "Multiple choice",
    "rating": "Rating scale", "yes_no": "Yes or no", "number": "Number",
    "free_text": "Free text",
}
CHANNEL_LABELS = {"web": "Web (invited by email)", "sms_link": "SMS with a link to the web",
                  "sms_dialogue": "SMS dialogue (questions answered by text)"}
LANGUAGE_LABELS = {"en": "English", "cy": "Welsh (Cymraeg)"}
# Field labels by path in the API's document (list positions as *), for the error summary.
LABELS = {
    "title": "Title", "summary": "Summary", "purpose": "Purpose", "scope": "Scope",
    "decision": "Decision", "decision-description": "Decision it informs",
    "decision-owner": "Decision owner", "decision-due": "Decision due date",
    "sponsors": "Sponsors", "sponsors-*": "Sponsor", "sponsors-*-cost_share": "Cost share",
    "sponsors-*-agency": "Sponsor", "open_to_join": "Open to join",
    "areas": "Areas", "areas-*": "Area", "topics": "Topics", "topics-*": "Topic",
    "fieldwork": "Fieldwork window", "fieldwork-start": "Fieldwork start",
    "fieldwork-end": "Fieldwork end", "sample_size": "Sample size",
    "target_completes": "Target completes", "quotas": "Quotas", "quotas-*-cell": "Quota group",
    "quotas-*-target": "Quota target", "channels": "Channels", "channels-*": "Channel",
    "reminder_days": "Reminder days", "reminder_days-*": "Reminder days",
    "languages": "Languages", "languages-*": "Language", "status": "Status",
    "code": "Question code", "type": "Question type", "text": "Question",
    "options": "Options", "options-*": "Option", "scale": "Scale",
    "scale-min": "Scale from", "scale-max": "Scale to", "scale-labels": "Scale labels",
    "scale-labels-*": "Scale label", "min": "Lowest number", "max": "Highest number",
    "required": "Required", "show_if": "Show only if", "show_if-question": "Show only if",
    "show_if-in": "Show only if", "bank_code": "Question from the bank",
    "translations": "Welsh texts", "translations-cy": "Welsh texts",
    "translations-cy-text": "Question in Welsh", "translations-cy-options": "Options in Welsh",
    "translations-cy-labels": "Scale labels in Welsh", "copy_of": "Survey to copy",
    "translations-cy-title": "Title in Welsh", "translations-cy-summary": "Summary in Welsh",
}
# Paths whose field has another id on the page, by the same pattern.
ANCHORS = {"decision": "decision-description", "fieldwork": "fieldwork-end",
           "scale": "scale-min", "scale-labels-*": "scale-labels", "options-*": "options",
           "show_if-question": "show_if", "show_if-in": "show_if",
           "translations": "translations-cy-text", "translations-cy": "translations-cy-text",
           "quotas-*": "quotas", "reminder_days-*": "reminder_days",
           "translations-cy-options-*": "translations-cy-options",
           "translations-cy-labels-*": "translations-cy-labels"}
SECTION_FIELDS = {
    "details": ("title", "summary", "purpose", "scope", "decision"),
    "sponsors": ("sponsors", "open_to_join"),
    "areas": ("areas", "topics"),
    "fieldwork": ("fieldwork", "sample_size", "target_completes", "quotas", "channels",
                  "reminder_days"),
    "languages": ("languages", "translations"),
}
BLANK_QUOTA_ROWS = 2


@dataclass
class Problems:
    """Errors by field id, and the error summary's (id, words) in the order of the page."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.summary)


def _flat(messages, path=()):
    if isinstance(messages, dict):
        for key, inner in messages.items():
            yield from _flat(inner, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flat(message, path)
    else:
        yield path, str(messages)


def _without_dict_keys(path: tuple) -> tuple:
    """A path as the document has it: marshmallow puts a dict's value errors under "value"
    (translations-cy-value-text), where the document has translations-cy-text."""
    if len(path) > 2 and path[0] == "translations" and path[2] == "value":
        return (*path[:2], *path[3:])
    return path


def _pattern(path: tuple) -> str:
    return "-".join("*" if isinstance(p, int) or str(p).isdigit() else str(p) for p in path)


def problems(messages: dict, document: dict, fallback: str) -> Problems:
    """The API's errors of `document` as the page names them: each against its field."""
    found = Problems()
    for path, message in _flat(messages):
        field_id, label = _where(_without_dict_keys(path), document, fallback)
        found.by_field.setdefault(field_id, []).append(message)
        text = f"{label}: {message}" if label else message
        if (field_id, text) not in found.summary:
            found.summary.append((field_id, text))
    return found


def _where(path: tuple, document: dict, fallback: str) -> tuple[str, str]:
    if not path or path == ("_schema",):
        return fallback, ""
    if path[0] == "questions" and len(path) > 1:
        return "questions", f"Question {int(path[1]) + 1}"
    if path[0] == "sponsors" and len(path) > 1:
        sponsors = document.get("sponsors") or []
        index = int(path[1])
        slug = sponsors[index]["agency"] if index < len(sponsors) else ""
        return f"share-{slug}", LABELS["sponsors-*-cost_share"]
    if path[0] == "quotas" and len(path) > 2:
        return f"quotas-{path[1]}-{path[2]}", LABELS.get(_pattern(path), "Quota")
    pattern = _pattern(path)
    anchor = ANCHORS.get(pattern) or "-".join(str(p) for p in path)
    if path[0] == "sponsors":
        anchor = fallback
    return anchor, LABELS.get(pattern, "")


def refused(broken: SurveyRuleBroken, document: dict, fallback: str) -> Problems:
    """A broken rule's errors against the fields; a rule with none is said at the top."""
    if broken.errors:
        return problems(broken.errors, document, fallback)
    return Problems({}, [(fallback, str(broken))])


# -- reading what was posted --------------------------------------------------------------


def _text(form: MultiDict, name: str) -> str:
    return form.get(name, "").strip()


def _optional(form: MultiDict, name: str) -> str | None:
    return _text(form, name) or None


def _lines(form: MultiDict, name: str) -> list[str]:
    return [line.strip() for line in form.get(name, "").splitlines() if line.strip()]


def _date(form: MultiDict, name: str) -> str | None:
    """A GOV.UK date input's three boxes as an ISO date; its schema judges whether it is one."""
    day, month, year = (_text(form, f"{name}-{part}") for part in ("day", "month", "year"))
    if not (day or month or year):
        return None
    return f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}"


def _present(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def details_changes(form: MultiDict, _agencies) -> dict:
    decision = _present(description=_optional(form, "decision-description"),
                        owner=_optional(form, "decision-owner"),
                        due=_date(form, "decision-due"))
    return {"title": _text(form, "title"), "summary": _text(form, "summary"),
            "purpose": _optional(form, "purpose"), "scope": _optional(form, "scope"),
            "decision": decision or None}


def sponsors_changes(form: MultiDict, agencies) -> dict:
    sponsors = [{"agency": slug, "cost_share": _text(form, f"share-{slug}")}
                for slug in agencies if _text(form, f"share-{slug}")]
    return {"sponsors": sponsors, "open_to_join": form.get("open_to_join") == "yes"}


def areas_changes(form: MultiDict, _agencies) -> dict:
    return {"areas": form.getlist("areas"), "topics": _lines(form, "topics")}


QUOTA_FIELD = re.compile(r"quotas-([0-9]{1,4})-(?:cell-([0-9]{1,2})|target)")


def _quota_rows(form: MultiDict) -> list[dict]:
    """The quota rows posted, in the page's order, from the names of their fields."""
    parts: dict[int, list[int]] = {}
    for name in form:
        if field := QUOTA_FIELD.fullmatch(name):
            picked = parts.setdefault(int(field.group(1)), [])
            if field.group(2) is not None:
                picked.append(int(field.group(2)))
    rows = []
    for index in sorted(parts):
        picked = [form.get(f"quotas-{index}-cell-{part}", "") for part in sorted(parts[index])]
        cell = dict(value.split(":", 1) for value in picked if ":" in value)
        target = _optional(form, f"quotas-{index}-target")
        if cell or target:
            rows.append(_present(cell=cell, target=target))
    return rows


def fieldwork_changes(form: MultiDict, _agencies) -> dict:
    start, end = _date(form, "fieldwork-start"), _date(form, "fieldwork-end")
    return {
        "fieldwork": _present(start=start, end=end) if start or end else None,
        "sample_size": _text(form, "sample_size"),
        "target_completes": _optional(form, "target_completes"),
        "quotas": _quota_rows(form), "channels": form.getlist("channels"),
        "reminder_days": [day for day in re.split(r"[\s,]+", _text(form, "reminder_days"))
                          if day],
    }


def languages_changes(form: MultiDict, _agencies) -> dict:
    """The languages, and the survey's own words in Welsh when any are given."""
    welsh = _present(title=_optional(form, "translations-cy-title"),
                     summary=_optional(form, "translations-cy-summary"))
    return {"languages": form.getlist("languages"),
            "translations": {"cy": welsh} if welsh else {}}


SECTION_CHANGES = {"details": details_changes, "sponsors": sponsors_changes,
                   "areas": areas_changes, "fieldwork": fieldwork_changes,
                   "languages": languages_changes}


def question_input(form: MultiDict) -> dict:
    """A question form as the API's question: only the parts its type has."""
    required = form.get("required", "yes") == "yes"
    show_if = _show_if(form)
    if form.get("bank_code"):
        return _present(bank_code=form["bank_code"], required=required, show_if=show_if)
    kind = _optional(form, "type")
    question = _present(code=_optional(form, "code"), type=kind, text=_optional(form, "text"),
                        required=required, show_if=show_if)
    if kind in CHOICE_TYPES:
        question["options"] = _lines(form, "options")
    if kind == "rating":
        question["scale"] = _present(min=_optional(form, "scale-min"),
                                     max=_optional(form, "scale-max"),
                                     labels=_lines(form, "scale-labels"))
    if kind == "number":
        question.update(_present(min=_optional(form, "min"), max=_optional(form, "max")))
    welsh = _optional(form, "translations-cy-text")
    if welsh:
        question["translations"] = {"cy": {
            "text": welsh, "options": _lines(form, "translations-cy-options")
            if kind in CHOICE_TYPES else [],
            "labels": _lines(form, "translations-cy-labels") if kind == "rating" else []}}
    return question


def bank_question_input(form: MultiDict) -> dict:
    """A bank question's form as the API's definition: a question of its own, no show-if."""
    return {key: value for key, value in question_input(form).items()
            if key not in ("show_if", "bank_code")}


def _show_if(form: MultiDict) -> dict | None:
    picked = [value.split(":", 1) for value in form.getlist("show_if") if ":" in value]
    if not picked:
        return None
    codes = {code for code, _ in picked}
    if len(codes) > 1:
        raise SurveyRuleBroken("Check what you entered.", {"show_if": [
            "Choose answers of one earlier question only."]})
    return {"question": picked[0][0], "in": [value for _, value in picked]}


def new_survey_input(form: MultiDict) -> dict:
    copy = form.get("start") == "copy"
    return {"title": _optional(form, "title"),
            "copy_of": _optional(form, "copy_of") if copy else None}


# -- what the pages show ------------------------------------------------------------------


def lines(values) -> str:
    return "\n".join(str(v) for v in values or [])


def date_parts(value) -> dict:
    """An ISO date (or what was typed) as a date input's day, month and year."""
    year, month, day = (str(value or "").split("-") + ["", "", ""])[:3]
    return {"day": day.lstrip("0") or day, "month": month.lstrip("0") or month, "year": year}


def group_choices(area_names: dict[str, str], areas_in_use) -> list[tuple[str, str]]:
    """What a quota cell can be made of: every category of every dimension, by name."""
    found = []
    for dimension in PROFILE_DIMENSIONS:
        if dimension == "area":
            categories = sorted(set(area_names) | set(areas_in_use),
                                key=lambda code: area_names.get(code, code))
        else:
            categories = CATEGORIES[dimension]
        found.extend((f"{dimension}:{category}", f"{dimension_label(dimension)}: "
                      f"{category_label(dimension, category, area_names)}")
                      for category in categories)
    return found


def quota_rows(document: dict) -> tuple[list[list[str]], int]:
    """The quota rows to show (the draft's and blank ones), each a list of picked groups."""
    quotas = document.get("quotas") or []
    groups = max([2] + [len(q.get("cell") or {}) for q in quotas])
    rows = [[f"{d}:{c}" for d, c in (q.get("cell") or {}).items()] for q in quotas]
    rows += [[] for _ in range(BLANK_QUOTA_ROWS)]
    return [row + [""] * (groups - len(row)) for row in rows], groups


def show_if_choices(earlier: list[Question]) -> list[tuple[Question, list[tuple[str, str]]]]:
    """Earlier questions whose answers can be listed, with (value, label) of each answer."""
    return [(q, choices(q)) for q in earlier if choices(q)]


def show_if_labels(questions: list[Question], question: Question) -> list[str]:
    """The answers of the earlier question that show this one, as a citizen reads them."""
    rule = question.show_if or {}
    earlier = next((q for q in questions if q.code == rule.get("question")), None)
    labels = dict(choices(earlier)) if earlier is not None else {}
    return [labels.get(value, value) for value in rule.get("in", [])]


def shown_by(questions: list[Question], code: str) -> list[Question]:
    """The questions whose show-if rule refers to this one."""
    return [q for q in questions if (q.show_if or {}).get("question") == code]


def area_choices(area_names: dict[str, str], chosen) -> list[tuple[str, str]]:
    codes = set(area_names) | set(chosen or [])
    return sorted(((code, area_names.get(code, code)) for code in codes),
                  key=lambda pair: pair[1])


def question_document(form: MultiDict) -> dict:
    """What a question form held, to show again as it was typed."""
    picked = [value.split(":", 1) for value in form.getlist("show_if") if ":" in value]
    return {
        "code": _text(form, "code"), "type": form.get("type"), "text": _text(form, "text"),
        "options": _lines(form, "options"),
        "scale": {"min": _text(form, "scale-min"), "max": _text(form, "scale-max"),
                  "labels": _lines(form, "scale-labels")},
        "min": _text(form, "min"), "max": _text(form, "max"),
        "required": form.get("required", "yes") == "yes",
        "show_if": {"question": picked[0][0], "in": [v for _, v in picked]} if picked else None,
        "translations": {"cy": {"text": _text(form, "translations-cy-text"),
                                "options": _lines(form, "translations-cy-options"),
                                "labels": _lines(form, "translations-cy-labels")}},
        "bank_code": form.get("bank_code") or None,
    }
