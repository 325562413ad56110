"""The partnership calendar page in surveys: every agency's surveys by month, for all staff."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from services.surveys.partnership_calendar import parse_month, partnership_calendar
from shared.console import staff_page
from shared.db import get_session

calendar_pages = Blueprint("calendar_pages", __name__, template_folder="templates")


@calendar_pages.get("/calendar")
@staff_page()
def partnership_calendar_page():
    today = date.today()
    month = parse_month(request.args.get("month"), today)
    return render_template("console/calendar/month.html", today=today,
                           calendar=partnership_calendar(get_session(), month=month, today=today))
