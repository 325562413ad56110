"""The shared question bank: questions with stable codes any agency reuses, and their results
across the surveys that asked them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.surveys.lifecycle import agency_names, build_questions, survey_results
from services.surveys.models import BankQuestion, Question, Survey
from services.surveys.queries import bank_questions, bank_usage, surveys_asking
from services.surveys.questions import choices
from shared.errors import RuleBroken


def add_bank_question(session: Session, *, code: str, definition: dict,
                      agency: str) -> BankQuestion:
    """Add a question under a code no question has had: a code never changes meaning."""
    if session.get(BankQuestion, code) is not None:
        raise RuleBroken("That code is taken in the question bank.",
                         {"code": [f"{code} exists already."]}, status=409)
    row = BankQuestion(code=code, definition=definition, agency=agency)
    session.add(row)
    session.commit()
    return row


def bank_results(session: Session, *, agency: str, code: str) -> list[dict]:
    """One bank question's results in every survey the agency sponsors, oldest first."""
    results = []
    for survey in surveys_asking(session, agency=agency, code=code):
        found = survey_results(session, survey)
        found["questions"] = [q for q in found["questions"] if q["code"] == code]
        results.append(found)
    return results


# -- the console's list -------------------------------------------------------------------


@dataclass
class BankEntry:
    """A bank question as the console lists it: its answers by their labels, the agency that
    added it by name, and the surveys that asked it (the agency's own, and others')."""

    row: BankQuestion
    question: Question
    added_by: str
    answers: list[str]
    own_surveys: list[Survey] = field(default_factory=list)
    other_surveys: list[tuple[Survey, str]] = field(default_factory=list)


def as_question(row: BankQuestion) -> Question:
    """A bank question's definition as an (unsaved) survey question, read as a citizen would."""
    [question] = build_questions([{**row.definition, "show_if": None}], ["web"])
    return question


def bank_listing(session: Session, *, agency: str, search: str | None = None) -> list[BankEntry]:
    """Every bank question, by code, with where it has been asked. Any agency sees the titles
    of the surveys that asked one (as in the partnership calendar), never their results."""
    names = agency_names(session)
    entries = {}
    for row in bank_questions(session, search=search):
        question = as_question(row)
        entries[row.code] = BankEntry(row, question, names.get(row.agency, row.agency),
                                      [label for _, label in choices(question)])
    for code, survey in bank_usage(session):
        entry = entries.get(code)
        if entry is None:
            continue
        if any(s.agency == agency for s in survey.sponsors):
            entry.own_surveys.append(survey)
        else:
            entry.other_surveys.append((survey, names.get(survey.lead_agency,
                                                          survey.lead_agency)))
    return list(entries.values())
