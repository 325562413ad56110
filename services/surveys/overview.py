"""A survey from its draft to its close, as its officers see it in the console: the overview,
the launch checklist of the purpose gate, launching and closing (audit-logged), and the
overlaps, join requests and invitations of joint working.

Every function here answers for one agency with the API's rules: a survey the agency does
not sponsor does not exist (NotFound), and only the lead agency launches and closes
(`queries.led_survey`, 403 for a co-sponsor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from services.surveys.contact_details import KIND_NAMES, removals
from services.surveys.lifecycle import (
    agency_names,
    launch_problems,
)
from services.surveys.models import JoinRequest, Survey
from services.surveys.overlap import find_overlaps
from services.surveys.population import area_names
from services.surveys.queries import invitations_to, led_survey, sponsored_survey
from shared.errors import NotFound
from shared.staff import StaffMember
from shared.statuses import JoinRequestStatus, SurveyStatus

# The roles the API lets write (launch, close, top up, join): the console's buttons too.
WRITERS = ("admin", "officer")
THEME_STEERS = ("officer", "analyst")  # the themes API's roles (themes_api.STEERS)


@dataclass(frozen=True)
class Step:
    """Something that can be done next with a survey: a link (GET) the page shows."""

    label: str
    path: str
    primary: bool = False


@dataclass
class Overview:
    survey: Survey
    lead: bool
    writer: bool
    lead_name: str
    sponsors: list[tuple[str, str]]  # (agency name, cost share), the lead first
    invited: list[tuple[str, str]]  # agencies invited, not yet answered: (name, share)
    areas: list[str]  # ward names
    overlaps: list[dict] = field(default_factory=list)
    requests: list[JoinRequest] = field(default_factory=list)  # pending requests to join
    steps: list[Step] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    # contact details taken out of free-text answers: (what, how many), most first
    removed: list[tuple[str, int]] = field(default_factory=list)
    # the free-text questions whose themes this person may read and steer: (code, text)
    themes: list[tuple[str, str]] = field(default_factory=list)


def _share(value) -> str:
    return f"{float(value):g}%" if value is not None else "not set"


def next_steps(survey: Survey, *, lead: bool, writer: bool) -> list[Step]:
    """What the survey's page offers next: only what the API would let this caller do."""
    base = f"/surveys/{survey.id}"
    status = SurveyStatus(survey.status)
    may_launch = status == SurveyStatus.DRAFT and lead and writer
    steps = [Step("Preview", f"{base}/preview",
                  primary=status == SurveyStatus.DRAFT and not may_launch),
             Step("Preview the SMS dialogue", f"{base}/preview/sms")]
    if may_launch:
        steps.append(Step("Launch", f"{base}/launch", primary=True))
    if status != SurveyStatus.DRAFT:
        steps.append(Step("Monitor fieldwork", f"{base}/fieldwork",
                          primary=status == SurveyStatus.FIELDWORK))
        # Its answers counted, leading to the analyst's weighted pages (any role of a sponsor).
        steps.append(Step("Results", f"{base}/results", primary=status == SurveyStatus.CLOSED))
    if status == SurveyStatus.FIELDWORK and lead and writer:
        steps.append(Step("Close", f"{base}/close"))
    return steps


def survey_overview(session: Session, *, staff: StaffMember, survey_id: int) -> Overview:
    """A survey the staff member's agency sponsors, with its sponsors, areas by name, the
    overlaps it has, the requests to join it (for its lead) and what can be done next."""
    survey = sponsored_survey(session, agency=staff.agency, survey_id=survey_id)
    names = agency_names(session)
    wards = area_names(session)
    lead = survey.lead_agency == staff.agency
    writer = staff.role in WRITERS
    sponsors = sorted(survey.sponsors, key=lambda s: (s.agency != survey.lead_agency, s.agency))
    overlaps = [{**o, "lead_agency_name": names.get(o["lead_agency"], o["lead_agency"]),
                 "area_names": [wards.get(a, a) for a in o["areas"]]}
                for o in find_overlaps(session, survey, staff.agency)]
    requests = [r for r in survey.join_requests
                if r.kind == "request" and r.status == JoinRequestStatus.PENDING] if lead else []
    return Overview(
        survey=survey, lead=lead, writer=writer,
        lead_name=names.get(survey.lead_agency, survey.lead_agency),
        sponsors=[(names.get(s.agency, s.agency), _share(s.cost_share)) for s in sponsors],
        invited=[(names.get(r.agency, r.agency), _share(r.cost_share))
                 for r in survey.join_requests
                 if r.kind == "invitation" and r.status == JoinRequestStatus.PENDING],
        areas=[wards.get(a, a) for a in survey.areas or []], overlaps=overlaps,
        requests=requests, steps=next_steps(survey, lead=lead, writer=writer), names=names,
        removed=[(KIND_NAMES[kind], count) for kind, count
                 in removals(session, survey.id).most_common()]
        if survey.status != SurveyStatus.DRAFT else [],
        themes=[(q.code, q.text) for q in survey.questions if q.type == "free_text"]
        if survey.status != SurveyStatus.DRAFT and staff.role in THEME_STEERS else [])


# -- the launch checklist: the purpose gate, item by item ---------------------------------


@dataclass(frozen=True)
class GateItem:
    key: str  # the field launch_problems names
    label: str
    met: bool
    problems: tuple[str, ...]
    fix: str | None  # where to put it right, when this agency can


# Each thing the purpose gate (lifecycle.launch_problems) checks, in the order it is shown,
# and the builder's page that puts it right ("" for none: another agency must act).
GATE_ITEMS = (  # (what the gate checks, how the checklist says it, the builder's page for it)
    ("status", "The survey is a draft", ""),
    ("questions", "It has at least one question", "questions"),
    ("purpose", "It says what the survey is for", "details#purpose"),
    ("scope", "It says what can and cannot change as a result", "details#scope"),
    ("decision", "It names the decision it informs, its owner and a due date still to come",
     "details#decision-description"),
    ("fieldwork", "Its fieldwork window has not ended", "fieldwork#fieldwork-end"),
    ("languages", "Its title and summary are in each language it is offered in",
     "languages#translations-cy-title"),
    ("sponsors", "Every agency invited to co-sponsor has accepted or declined", "sponsors"),
)


def edit_path(survey_id: int, section: str) -> str:
    """The builder's page (and field) for one part of a survey."""
    return f"/surveys/{survey_id}/build/{section}"


def gate_checklist(survey: Survey, problems: dict[str, list[str]]) -> list[GateItem]:
    items = [GateItem(key, label, key not in problems, tuple(problems.get(key, ())),
                      edit_path(survey.id, section) if section else None)
             for key, label, section in GATE_ITEMS]
    known = {key for key, _, _ in GATE_ITEMS}
    # Anything the gate checks that this list does not name yet is still shown.
    items += [GateItem(key, key.replace("_", " ").capitalize(), False, tuple(reasons), None)
              for key, reasons in problems.items() if key not in known]
    return items


@dataclass
class LaunchCheck:
    survey: Survey
    items: list[GateItem]
    sponsors: list[str]

    @property
    def ready(self) -> bool:
        return all(item.met for item in self.items)


def launch_check(session: Session, *, agency: str, survey_id: int, today: date) -> LaunchCheck:
    """The lead's launch checklist: each item of the purpose gate, met or not."""
    survey = led_survey(session, agency=agency, survey_id=survey_id, doing="launches")
    names = agency_names(session)
    return LaunchCheck(survey, gate_checklist(survey, launch_problems(survey, today, names)),
                       [names.get(s.agency, s.agency) for s in survey.sponsors])


def close_check(session: Session, *, agency: str, survey_id: int) -> Survey:
    """The survey the lead may be asked to confirm closing (403 for a co-sponsor)."""
    return led_survey(session, agency=agency, survey_id=survey_id, doing="closes")


# -- joint working: requests to join, decided by the lead; invitations, answered ------------


@dataclass
class RequestToDecide:
    survey: Survey
    request: JoinRequest
    requester: str  # the asking agency's name
    shares: list[tuple[str, str, str]]  # (agency slug, name, share proposed on the form)


def request_to_decide(session: Session, *, agency: str, survey_id: int,
                      request_id: int) -> RequestToDecide:
    """A pending request to join the lead's survey, with every share the decision must set:
    the sponsors' as they are, the invited agencies' as proposed, the newcomer's at 0."""
    survey = led_survey(session, agency=agency, survey_id=survey_id, doing="decides who joins")
    request = next((r for r in survey.join_requests
                    if r.id == request_id and r.kind == "request"), None)
    if request is None:
        raise NotFound("No such request.")
    names = agency_names(session)
    shares = [(s.agency, names.get(s.agency, s.agency), f"{float(s.cost_share):g}")
              for s in survey.sponsors]
    shares += [(r.agency, names.get(r.agency, r.agency), f"{float(r.cost_share or 0):g}")
               for r in survey.join_requests
               if r.kind == "invitation" and r.status == JoinRequestStatus.PENDING]
    shares.append((request.agency, names.get(request.agency, request.agency), "0"))
    return RequestToDecide(survey, request, names.get(request.agency, request.agency), shares)


@dataclass
class InvitationToAnswer:
    invitation: JoinRequest
    lead_name: str


def invitations_for(session: Session, *, agency: str) -> list[InvitationToAnswer]:
    """Invitations to the agency to co-sponsor other agencies' drafts, newest first."""
    names = agency_names(session)
    return [InvitationToAnswer(i, names.get(i.survey.lead_agency, i.survey.lead_agency))
            for i in invitations_to(session, agency=agency)]
