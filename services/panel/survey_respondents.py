"""The respondents of closed surveys, as surveys tells panel at each close: kept by survey so
that a sponsor's panel manager can choose one by its title and see how well the people who
answered represent the place (the same report as POST /api/v1/representativeness/respondents)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.models import AgencyName, SurveyRespondents
from services.panel.queries import console_representativeness, respondents_report
from services.panel.representativeness import dimension_sections, ranked_under
from services.panel.targets import area_names
from shared.errors import NotFound


def record_respondents(session: Session, payload: dict) -> None:
    """panel.survey_respondents: the survey's respondents now (a later close replaces them)."""
    row = session.get(SurveyRespondents, payload["survey_id"]) or SurveyRespondents(
        survey_id=payload["survey_id"])
    row.title, row.sponsors = payload["title"], list(payload["sponsors"])
    row.sponsor_names = dict(payload.get("sponsor_names") or {})
    row.closed_at = payload["closed_at"]
    row.member_refs = [str(ref) for ref in payload["respondent_refs"]]
    session.add(row)


def record_agency_name(session: Session, payload: dict) -> None:
    """panel.agency_named: surveys added an agency (or announced its name again)."""
    row = session.get(AgencyName, payload["agency"]) or AgencyName(agency=payload["agency"])
    row.name = payload["name"]
    session.add(row)


def known_agency_names(session: Session) -> dict[str, str]:
    """{agency: name}: as surveys announced each agency, else as the closed surveys' messages
    named their sponsors (the newest name wins)."""
    names: dict[str, str] = {}
    for sponsor_names in session.scalars(select(SurveyRespondents.sponsor_names)
                                         .order_by(SurveyRespondents.closed_at)):
        names.update(sponsor_names or {})  # the names only, not each survey's respondents
    names.update(session.execute(select(AgencyName.agency, AgencyName.name)).all())
    return names


def sponsored_closed_surveys(session: Session, agency: str) -> list[SurveyRespondents]:
    """The closed surveys the agency sponsored, most recently closed first."""
    rows = session.scalars(select(SurveyRespondents).order_by(
        SurveyRespondents.closed_at.desc(), SurveyRespondents.survey_id.desc()))
    return [row for row in rows if agency in (row.sponsors or [])]


def respondents_page(session: Session, *, agency: str, survey_id: int | None, area: str,
                     threshold: float, small_cell_threshold: int) -> dict:
    """The console's report of one sponsored survey's respondents for a ward (or "all"), per
    dimension with names, small groups hidden; with no survey chosen, the surveys to choose
    from. Another agency's survey is NotFound, as a missing one."""
    surveys = sponsored_closed_surveys(session, agency)
    page = {"surveys": [(s.survey_id, s.title) for s in surveys], "survey": None,
            "sections": [], "under": [], "area": area, "areas": [], "threshold": threshold,
            "small_cell_threshold": small_cell_threshold, "area_name": area}
    if survey_id is None:
        return page
    chosen = next((s for s in surveys if s.survey_id == survey_id), None)
    if chosen is None:
        raise NotFound("No such survey.")
    result = respondents_report(session, member_refs=chosen.member_refs, threshold=threshold,
                                small_cell_threshold=small_cell_threshold)
    names = area_names(session)
    areas = sorted(((a, names.get(a) or a) for a in {r["area"] for r in result["rows"]}
                    - {"all"}), key=lambda ward: ward[1])
    return {**page, "survey": chosen, "respondents": len(chosen.member_refs),
            "sections": dimension_sections(result, area, names),
            "under": ranked_under(result, area), "areas": areas,
            "area_name": names.get(area) or area}


def panel_page(session: Session, *, agency: str, area: str, threshold: float,
               small_cell_threshold: int) -> dict:
    """The panel's representativeness page: the report, and the agency's closed surveys to
    choose from for their respondents'."""
    return {**console_representativeness(session, area=area, threshold=threshold,
                                         small_cell_threshold=small_cell_threshold),
            "surveys": [(s.survey_id, s.title) for s in sponsored_closed_surveys(session, agency)]}
