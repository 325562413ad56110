"""The shared question bank: questions with stable codes any agency reuses, and their results
across the surveys that asked them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.surveys.lifecycle import survey_results
from services.surveys.models import BankQuestion
from services.surveys.queries import surveys_asking
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
