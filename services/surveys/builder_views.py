"""The officer's survey builder: a new survey (blank or a copy), then a task list of the draft's
sections, each a page posting the same changes the API's PATCH and question endpoints take,
to the same use cases (services/surveys/builder.py), refused by the same rules."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from services.surveys import builder
from services.surveys import builder_forms as forms
from services.surveys.lifecycle import SurveyRuleBroken
from services.surveys.schemas import (
    DraftStartSchema,
    QuestionInputSchema,
    QuestionMoveSchema,
    survey_changes_schema,
)
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session

builder_pages = Blueprint("builder", __name__, template_folder="templates")
WRITERS = ("admin", "officer")


def _agency() -> str:
    return current_caller().agency


def _draft(survey_id: int) -> builder.Draft:
    return builder.editing(get_session(), agency=_agency(), survey_id=survey_id)


def _to_task_list(survey_id: int):
    return redirect(url_for("builder.task_list", survey_id=survey_id), code=303)


def _form_refused(broken: SurveyRuleBroken, template: str, document: dict, fallback: str,
                  **context):
    """A form the rules refused, shown again with what was typed and an error summary;
    refusals that are not about the form (403, 404, 409) go to the one error handler."""
    if broken.status != 422:
        raise broken
    problems = forms.refused(broken, document, fallback)
    return render_template(template, document=document, problems=problems, forms=forms,
                           **context), 400


@builder_pages.route("/surveys/new", methods=["GET", "POST"])
@staff_page(*WRITERS)
def new_survey():
    copyable = builder.copyable_surveys(get_session(), agency=_agency())
    document = forms.new_survey_input(request.form) if request.method == "POST" else {}
    try:
        if request.method == "POST":
            survey = builder.new_draft(get_session(), agency=_agency(),
                                       data=builder.parsed(DraftStartSchema(), document))
            return _to_task_list(survey.id)
    except SurveyRuleBroken as broken:
        return _form_refused(broken, "console/builder/new.html", document, "title",
                             copyable=copyable, start=request.form.get("start"))
    return render_template("console/builder/new.html", document=document, copyable=copyable,
                           problems=forms.Problems(), forms=forms, start="scratch")


@builder_pages.get("/surveys/<int:survey_id>/build")
@staff_page(*WRITERS)
def task_list(survey_id: int):
    draft = _draft(survey_id)
    return render_template("console/builder/task_list.html", draft=draft, survey=draft.survey)


def _section_page(draft: builder.Draft, section: str, document: dict, problems):
    return render_template(f"console/builder/{section}.html", draft=draft, survey=draft.survey,
                           document=document, problems=problems, forms=forms)


@builder_pages.get("/surveys/<int:survey_id>/build/<section>")
@staff_page(*WRITERS)
def section_page(survey_id: int, section: str):
    if section not in forms.SECTION_CHANGES:
        abort(404)
    draft = _draft(survey_id)
    return _section_page(draft, section, builder.as_sent(builder.draft_state(draft.survey)),
                         forms.Problems())


@builder_pages.post("/surveys/<int:survey_id>/build/<section>")
@staff_page(*WRITERS)
def save_section(survey_id: int, section: str):
    if section not in forms.SECTION_CHANGES:
        abort(404)
    draft = _draft(survey_id)
    changes = forms.SECTION_CHANGES[section](request.form, sorted(draft.agency_names))
    document = {**builder.as_sent(builder.draft_state(draft.survey)), **changes}
    try:
        builder.update_details(get_session(), agency=_agency(), survey_id=survey_id,
                               changes=builder.parsed(survey_changes_schema(), changes))
    except SurveyRuleBroken as broken:
        return _form_refused(broken, f"console/builder/{section}.html", document,
                             forms.SECTION_FIELDS[section][0], draft=draft, survey=draft.survey)
    return _to_task_list(survey_id)


@builder_pages.get("/surveys/<int:survey_id>/build/questions")
@staff_page(*WRITERS)
def questions_page(survey_id: int):
    draft = _draft(survey_id)
    return render_template("console/builder/questions.html", draft=draft, survey=draft.survey,
                           document={}, problems=forms.Problems(), forms=forms)


@builder_pages.post("/surveys/<int:survey_id>/build/questions/bank")
@staff_page(*WRITERS)
def add_bank_question(survey_id: int):
    draft = _draft(survey_id)
    document = forms.question_input(request.form)
    try:
        builder.add_question(get_session(), agency=_agency(), survey_id=survey_id,
                             question=builder.parsed(QuestionInputSchema(), document))
    except SurveyRuleBroken as broken:
        return _form_refused(broken, "console/builder/questions.html", document, "bank_code",
                             draft=draft, survey=draft.survey)
    return redirect(url_for("builder.questions_page", survey_id=survey_id), code=303)


def _question_page(draft: builder.Draft, code: str | None, document: dict, problems):
    survey = draft.survey
    index = next((i for i, q in enumerate(survey.questions) if q.code == code),
                 len(survey.questions))
    if code is not None and index == len(survey.questions):
        abort(404)
    return render_template("console/builder/question.html", draft=draft, survey=survey,
                           code=code, document=document, problems=problems, forms=forms,
                           earlier=forms.show_if_choices(survey.questions[:index]))


@builder_pages.get("/surveys/<int:survey_id>/build/questions/new")
@staff_page(*WRITERS)
def new_question(survey_id: int):
    return _question_page(_draft(survey_id), None, {"required": True}, forms.Problems())


@builder_pages.get("/surveys/<int:survey_id>/build/questions/<code>")
@staff_page(*WRITERS)
def question_page(survey_id: int, code: str):
    draft = _draft(survey_id)
    found = [q for q in draft.survey.questions if q.code == code]
    document = {**builder.question_input(found[0]), "bank_code": found[0].bank_code} \
        if found else {}
    return _question_page(draft, code, document, forms.Problems())


def _save_question(survey_id: int, code: str | None, save):
    """A question form posted: saved by `save(question)`, or shown again naming the fields."""
    draft = _draft(survey_id)
    try:
        save(builder.parsed(QuestionInputSchema(), forms.question_input(request.form)))
    except SurveyRuleBroken as broken:
        if broken.status != 422:
            raise
        return _question_page(draft, code, forms.question_document(request.form),
                              forms.refused(broken, {}, "code")), 400
    return redirect(url_for("builder.questions_page", survey_id=survey_id), code=303)


@builder_pages.post("/surveys/<int:survey_id>/build/questions/new")
@staff_page(*WRITERS)
def add_question(survey_id: int):
    return _save_question(survey_id, None, lambda question: builder.add_question(
        get_session(), agency=_agency(), survey_id=survey_id, question=question))


@builder_pages.post("/surveys/<int:survey_id>/build/questions/<code>")
@staff_page(*WRITERS)
def edit_question(survey_id: int, code: str):
    return _save_question(survey_id, code, lambda question: builder.edit_question(
        get_session(), agency=_agency(), survey_id=survey_id, code=code, question=question))


def _questions_refused(survey_id: int, broken: SurveyRuleBroken):
    draft = _draft(survey_id)
    return _form_refused(broken, "console/builder/questions.html", {}, "questions",
                         draft=draft, survey=draft.survey)


@builder_pages.post("/surveys/<int:survey_id>/build/questions/<code>/move")
@staff_page(*WRITERS)
def move_question(survey_id: int, code: str):
    try:
        builder.move_question(get_session(), agency=_agency(), survey_id=survey_id, code=code,
                              **builder.parsed(QuestionMoveSchema(),
                                              {"direction": request.form.get("direction")}))
    except SurveyRuleBroken as broken:
        return _questions_refused(survey_id, broken)
    return redirect(url_for("builder.questions_page", survey_id=survey_id), code=303)


@builder_pages.get("/surveys/<int:survey_id>/build/questions/<code>/remove")
@staff_page(*WRITERS)
def confirm_remove(survey_id: int, code: str):
    draft = _draft(survey_id)
    found = [q for q in draft.survey.questions if q.code == code]
    if not found:
        abort(404)
    return render_template("console/builder/remove.html", draft=draft, survey=draft.survey,
                           question=found[0], forms=forms,
                           shown_by=forms.shown_by(draft.survey.questions, code))


@builder_pages.post("/surveys/<int:survey_id>/build/questions/<code>/remove")
@staff_page(*WRITERS)
def remove_question(survey_id: int, code: str):
    try:
        builder.remove_question(get_session(), agency=_agency(), survey_id=survey_id, code=code)
    except SurveyRuleBroken as broken:
        return _questions_refused(survey_id, broken)
    return redirect(url_for("builder.questions_page", survey_id=survey_id), code=303)
