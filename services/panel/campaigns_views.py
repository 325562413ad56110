"""Panel managers' campaign pages: the agency's campaigns, a new one started by a form with
the API's rules, each campaign's join link, SMS keyword and report (yield in its target group
against everyone who joined, cost per recruit, each chart beside its table), and its poster
for printing on A4 with the QR code of its join link."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.panel.campaign_form import create_from_form, group_options
from services.panel.campaigns import campaign_listing, campaign_page
from services.panel.charts import campaign_charts
from services.panel.console_forms import FormRefused, Problems
from services.panel.qr_codes import qr_svg_uri
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session

campaigns_pages = Blueprint("campaigns_pages", __name__, template_folder="templates")
MANAGERS = ("panel_manager",)  # the API's campaigns endpoints: panel managers (and analysts
# for a report, who have no panel pages)


@campaigns_pages.get("/panel/campaigns")
@staff_page(*MANAGERS)
def campaigns():
    return render_template("console/campaigns/list.html", campaigns=campaign_listing(
        get_session(), agency=current_caller().agency))


def _form(problems: Problems, values, status: int = 200):
    return render_template("console/campaigns/new.html", problems=problems, values=values,
                           groups=group_options(get_session()), has_errors=bool(problems)), status


@campaigns_pages.get("/panel/campaigns/new")
@staff_page(*MANAGERS)
def new_campaign():
    return _form(Problems(), MultiDict())


@campaigns_pages.post("/panel/campaigns/new")
@staff_page(*MANAGERS)
def start():
    try:
        made = create_from_form(get_session(), agency=current_caller().agency, form=request.form)
    except FormRefused as refused:
        return _form(refused.problems, request.form, refused.status)
    return redirect(url_for("campaigns_pages.campaign", campaign_id=made.id, started=1), 303)


def _page(campaign_id: int) -> dict:
    return campaign_page(get_session(), agency=current_caller().agency,
                         campaign_id=campaign_id, panel_url=current_app.config["PANEL_URL"])


@campaigns_pages.get("/panel/campaigns/<int:campaign_id>")
@staff_page(*MANAGERS)
def campaign(campaign_id: int):
    shown = _page(campaign_id)
    return render_template("console/campaigns/campaign.html", **shown,
                           charts=campaign_charts(shown["report"]),
                           started=request.args.get("started") == "1")


@campaigns_pages.get("/panel/campaigns/<int:campaign_id>/poster")
@staff_page(*MANAGERS)
def poster(campaign_id: int):
    shown = _page(campaign_id)
    return render_template("console/campaigns/poster.html", **shown,
                           qr=qr_svg_uri(shown["join_url"]),
                           sms_number=current_app.config["SMS_FROM"])
