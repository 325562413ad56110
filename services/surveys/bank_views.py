"""The question bank in the console: every shared question with its answers and the surveys
that asked it (any staff role, as GET /api/v1/question-bank), and a page adding one (admins
and officers, as POST /api/v1/question-bank), through the API's schema and use case."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from services.surveys import builder_forms as forms
from services.surveys.builder import parsed
from services.surveys.question_bank import add_bank_question, bank_listing
from services.surveys.schemas import QuestionDefinitionSchema
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session
from shared.errors import RuleBroken

bank_pages = Blueprint("bank", __name__, template_folder="templates")
WRITERS = ("admin", "officer")


@bank_pages.get("/question-bank")
@staff_page()
def bank_list():
    caller = current_caller()
    entries = bank_listing(get_session(), agency=caller.agency)
    return render_template("console/bank/list.html", entries=entries, forms=forms,
                           writer=caller.role in WRITERS, added=request.args.get("added"))


def _form(document: dict, problems, status: int = 200):
    return render_template("console/bank/new.html", document=document, problems=problems,
                           forms=forms), status


@bank_pages.get("/question-bank/new")
@staff_page(*WRITERS)
def new_bank_question():
    return _form({"required": True}, forms.Problems())


@bank_pages.post("/question-bank/new")
@staff_page(*WRITERS)
def add_to_bank():
    document = forms.bank_question_input(request.form)
    try:
        data = parsed(QuestionDefinitionSchema(), document)
        row = add_bank_question(get_session(), code=data["code"], agency=current_caller().agency,
                                definition=QuestionDefinitionSchema().dump(data))
    except RuleBroken as broken:
        if broken.status not in (409, 422):
            raise
        return _form(forms.question_document(request.form), forms.refused(broken, {}, "code"),
                     400)
    return redirect(url_for("bank.bank_list", added=row.code), code=303)
