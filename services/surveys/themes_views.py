"""The console's themes pages: a free-text question's themes beside their chart, one theme's
answers, and the edits that steer them, by the themes API's rules (themes_api.py): officers
and analysts of an agency sponsoring the survey."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from services.surveys import themes as use
from services.surveys.themes_api import STEERS
from shared.audit import current_actor
from shared.console import staff_page
from shared.db import get_session
from shared.service import bus

theme_pages = Blueprint("themes", __name__, template_folder="templates")


@theme_pages.get("/surveys/<int:survey_id>/themes/<code>")
@staff_page(*STEERS)
def themes_page(survey_id: int, code: str):
    page = use.themes_page(get_session(), agency=g.caller.agency, survey_id=survey_id,
                           code=code, problems=None)
    return render_template("console/themes/themes.html", page=page)


@theme_pages.get("/surveys/<int:survey_id>/themes/<code>/<int:theme_id>")
@staff_page(*STEERS)
def theme_page(survey_id: int, code: str, theme_id: int):
    found, theme, answers = use.theme_answers(get_session(), agency=g.caller.agency,
                                              survey_id=survey_id, code=code, theme_id=theme_id)
    return render_template("console/themes/theme.html", found=found, theme=theme,
                           answers=answers)


@theme_pages.post("/surveys/<int:survey_id>/themes/<code>/run")
@staff_page(*STEERS)
def run(survey_id: int, code: str):
    use.start_runs(get_session(), bus(), agency=g.caller.agency, survey_id=survey_id,
                   actor=current_actor().actor, code=code)
    flash("Finding the themes: this page shows how far it has got.")
    return redirect(url_for("themes.themes_page", survey_id=survey_id, code=code), code=303)


@theme_pages.post("/surveys/<int:survey_id>/themes/<code>/edit")
@staff_page(*STEERS)
def edit(survey_id: int, code: str):
    edit, problems = use.read_edit_form(request.form)
    if problems:
        page = use.themes_page(get_session(), agency=g.caller.agency, survey_id=survey_id,
                               code=code, problems=problems)
        return render_template("console/themes/themes.html", page=page), 422
    use.edit_themes(get_session(), bus(), agency=g.caller.agency, survey_id=survey_id,
                    code=code, actor=current_actor().actor,
                    threshold=current_app.config["SMALL_CELL_THRESHOLD"], **edit)
    flash(use.EDIT_DONE[edit["kind"]])
    return redirect(url_for("themes.themes_page", survey_id=survey_id, code=code), code=303)
