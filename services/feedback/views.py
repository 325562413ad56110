"""Public pages: "you said, we did" reports (list, page, Atom feed), the agencies' scoreboard,
and each member's own page reached from the link in their messages."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.feedback.accountability import agency_scoreboard, is_overdue
from services.feedback.charts import result_chart_svg, scoreboard_chart_svg, scoreboard_charts
from services.feedback.findings import published_results
from services.feedback.member_links import member_ref_from_token
from services.feedback.models import Commitment, Report, ReportSponsor, ReportTag, Respondent
from services.feedback.progress import STATUS_WORDS
from services.feedback.queries import public_report, published, published_report
from services.feedback.report_pages import public_view
from services.feedback.reports import RELATION_WORDS, effective_relation
from shared.bus import utcnow
from shared.charts import svg_headers
from shared.db import get_session
from shared.service import public_url
from shared.statuses import ReportStatus

pages = Blueprint("pages", __name__, template_folder="templates")

FEED_SIZE = 50


def threshold() -> int:
    return current_app.config["SMALL_CELL_THRESHOLD"]


def not_found(paragraph: str):
    return render_template("message_page.html", heading="Page not found",
                           paragraphs=[paragraph]), 404


@pages.app_template_filter("long_date")
def long_date(value) -> str:
    return value.strftime("%-d %B %Y") if value else ""


@pages.app_template_filter("iso_utc")
def iso_utc(value) -> str:
    return value.astimezone(UTC).isoformat()


@pages.app_context_processor
def words():
    return {"relation_words": RELATION_WORDS, "status_words": STATUS_WORDS}


def filter_choices() -> dict[str, list[str]]:
    """The agencies, areas and topics that have at least one published report."""
    session = get_session()
    published_ids = select(Report.id).where(Report.status == ReportStatus.PUBLISHED)
    choices = {"agency": list(session.scalars(
        select(ReportSponsor.agency).where(ReportSponsor.report_id.in_(published_ids))
        .distinct().order_by(ReportSponsor.agency)))}
    for kind in ("area", "topic"):
        choices[kind] = list(session.scalars(
            select(ReportTag.value).where(ReportTag.kind == kind,
                                          ReportTag.report_id.in_(published_ids))
            .distinct().order_by(ReportTag.value)))
    return choices


@pages.get("/you-said-we-did")
def report_list():
    choices = filter_choices()
    # An unknown value is ignored rather than refused: this is a page, not an API.
    chosen = {kind: value for kind in choices
              if (value := request.args.get(kind, "")) in choices[kind]}
    reports = get_session().scalars(published(**chosen)).all()
    return render_template("report_list.html", reports=reports, choices=choices, chosen=chosen)


@pages.get("/you-said-we-did/feed.atom")
def report_feed():
    reports = get_session().scalars(published().limit(FEED_SIZE)).all()
    updated = max((r.published_at for r in reports), default=utcnow())
    body = render_template("feed.xml", reports=reports, updated=updated,
                           feed_url=public_url("pages.report_feed"),
                           list_url=public_url("pages.report_list"))
    return Response(body, mimetype="application/atom+xml")


@pages.get("/you-said-we-did/<int:report_id>")
def report_page(report_id: int):
    report = published_report(get_session(), report_id)
    if report is None:
        return not_found("There is no published report at this address.")
    return render_template("report.html", **public_view(report, threshold(), utcnow().date()),
                           chart_endpoint="pages.report_chart")


@pages.get("/you-said-we-did/<int:report_id>/charts/<code>.svg")
def report_chart(report_id: int, code: str):
    report = public_report(get_session(), report_id)
    return result_chart_svg(published_results(report.results, threshold()), code), 200, \
        svg_headers()


@pages.get("/scoreboard")
def scoreboard_page():
    rows = agency_scoreboard(get_session(), now=utcnow(),
                             overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])
    return render_template("scoreboard.html", rows=rows, charts=scoreboard_charts(rows),
                           overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])


@pages.get("/scoreboard/<name>.svg")
def scoreboard_chart(name: str):
    rows = agency_scoreboard(get_session(), now=utcnow(),
                             overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])
    return scoreboard_chart_svg(rows, name), 200, svg_headers()


@pages.get("/you/<token>")
def member_page(token: str):
    member_ref = member_ref_from_token(token, current_app.config["SECRET_KEY"])
    if member_ref is None:
        return not_found("This link is not recognised. Use the link in your latest message.")
    reports = get_session().scalars(
        select(Report).join(Respondent, Respondent.report_id == Report.id)
        .where(Respondent.member_ref == member_ref)
        .options(selectinload(Report.sponsors),
                 selectinload(Report.commitments).selectinload(Commitment.updates))
        .order_by(Report.closed_at.desc(), Report.id.desc())).all()
    now = utcnow()
    overdue = {r.id: is_overdue(r.status, r.closed_at, now,
                                current_app.config["FEEDBACK_OVERDUE_DAYS"]) for r in reports}
    page = render_template("member_page.html", reports=reports, overdue=overdue,
                           relations={r.id: effective_relation(r) for r in reports})
    # The address is the member's key: keep it out of other sites' logs and search engines.
    return page, 200, {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
