"""The panel console's forms as the API's documents: what a page posts becomes the JSON a
client would send, judged by the API's own schema, and the schema's errors are put against
the fields that caused them, in words, for the GOV.UK error summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError

from shared.errors import RuleBroken


@dataclass
class Problems:
    """Errors by field id, and the error summary's (id, words) in the order found."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.summary)

    def add(self, field_id: str, label: str, reason: str) -> None:
        self.by_field.setdefault(field_id, []).append(reason)
        self.summary.append((field_id, f"{label}: {reason}" if label else reason))


class FormRefused(Exception):
    """What a page's form cannot do as posted: the problems by field and the status to answer
    (400 for what the schema refuses, the use case's own status for a rule it keeps)."""

    def __init__(self, problems: Problems, status: int = 400):
        super().__init__(problems.summary[0][1] if problems.summary else "refused")
        self.problems = problems
        self.status = status


def reasons_of(messages) -> list[str]:
    """Every reason in a marshmallow message, however nested (a dict of a Dict's keys)."""
    if isinstance(messages, dict):
        return [reason for value in messages.values() for reason in reasons_of(value)]
    if isinstance(messages, list):
        return [reason for value in messages for reason in reasons_of(value)]
    return [str(messages)]


def problems_of(messages: dict, labels: dict[str, str], fallback: str,
                ids: dict[str, str] | None = None) -> Problems:
    """A schema's (or a rule's) errors as the page names them. `labels` are the fields'
    words; a field the page does not show is reported against `fallback`."""
    found = Problems()
    for name, reasons in messages.items():
        field_id = (ids or {}).get(name, name if name in labels else fallback)
        for reason in dict.fromkeys(reasons_of(reasons)):
            found.add(field_id, labels.get(name, ""), reason)
    return found


def loaded(schema: Schema, document: dict, labels: dict[str, str], fallback: str,
           ids: dict[str, str] | None = None) -> dict:
    """`document` as the API's schema loads it; FormRefused with its errors by field."""
    try:
        return schema.load(document)
    except ValidationError as error:
        raise FormRefused(problems_of(error.messages, labels, fallback, ids)) from error


def kept(broken: RuleBroken, labels: dict[str, str], fallback: str) -> FormRefused:
    """A rule a use case keeps (RuleBroken), as the form's problems at its status."""
    found = problems_of(broken.errors, labels, fallback) if broken.errors else Problems()
    if not found:
        found.add(fallback, "", str(broken))
    return FormRefused(found, broken.status)
