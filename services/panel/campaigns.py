"""Recruitment campaigns aimed at groups: codes, attribution and the yield report."""

from __future__ import annotations

import secrets
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.panel.campaign_links import join_url, sms_keyword
from services.panel.models import Campaign, Member
from services.panel.queries import agency_campaign, campaigns_of
from services.panel.targets import area_names
from shared.errors import RuleBroken
from shared.profile import PROFILE_DIMENSIONS, category_label, dimension_label

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def start_campaign(session: Session, *, agency: str, data: dict) -> Campaign:
    """A campaign of the agency (CampaignCreateSchema's data), its code given or made up."""
    code = data["code"] or new_code()
    if session.scalar(select(Campaign).where(Campaign.code == code)) is not None:
        raise RuleBroken("That code is taken.", errors={"code": ["That code is taken."]},
                         status=409)
    campaign = Campaign(agency=agency, name=data["name"], code=code,
                        target_group=data["target_group"], cost=data["cost"])
    session.add(campaign)
    session.commit()
    return campaign


def agency_campaign_report(session: Session, *, agency: str, campaign_id: int) -> dict:
    """The report of one of the agency's campaigns; NotFound for any other."""
    return campaign_report(session, agency_campaign(session, agency=agency,
                                                    campaign_id=campaign_id))


def in_group(member: Member, group: dict) -> bool:
    return all(str(getattr(member, dim, None)) in {str(v) for v in values}
               for dim, values in group.items())


def campaign_report(session: Session, campaign: Campaign) -> dict:
    """Recruits, the share of them in the target group beside the share among all members who
    joined over the same time, and the cost per recruit when the campaign has a cost."""
    group = campaign.target_group or {}
    recruits = list(session.scalars(select(Member).where(
        Member.campaign_id == campaign.id, Member.status == "active")))
    in_target = sum(in_group(m, group) for m in recruits)
    others = list(session.scalars(select(Member).where(
        Member.status == "active", Member.joined_at >= campaign.created_at)))
    overall = sum(in_group(m, group) for m in others)
    pending = session.scalar(select(func.count()).select_from(Member).where(
        Member.campaign_id == campaign.id, Member.status == "pending"))
    cost = Decimal(campaign.cost) if campaign.cost is not None else None
    return {
        "campaign_id": campaign.id, "name": campaign.name, "code": campaign.code,
        "target_group": group,
        "recruits": len(recruits),
        "awaiting_confirmation": pending,
        "recruits_in_target_group": in_target,
        "yield_in_target_group": round(in_target / len(recruits), 4) if recruits else None,
        "share_in_target_group_overall": round(overall / len(others), 4) if others else None,
        "cost": str(cost) if cost is not None else None,
        "cost_per_recruit": str(round(cost / len(recruits), 2)) if cost and recruits else None,
        "cost_per_target_recruit": str(round(cost / in_target, 2)) if cost and in_target
        else None,
    }


# -- what the console shows of campaigns ----------------------------------------------------

def group_in_words(group: dict, area_names: dict[str, str]) -> list[tuple[str, str]]:
    """The target group as (dimension, its groups) in words, dimensions in natural order."""
    return [(dimension_label(dimension), ", ".join(
        category_label(dimension, str(value), area_names) for value in group[dimension]))
        for dimension in PROFILE_DIMENSIONS if group.get(dimension)]


def campaign_listing(session: Session, *, agency: str) -> list[dict]:
    """The agency's campaigns, newest first, each with its recruits and its group in words."""
    campaigns = list(session.scalars(campaigns_of(agency)))
    recruits = dict(session.execute(
        select(Member.campaign_id, func.count()).where(
            Member.campaign_id.in_([c.id for c in campaigns]), Member.status == "active")
        .group_by(Member.campaign_id)).all()) if campaigns else {}
    names = area_names(session)
    return [{"campaign": c, "recruits": recruits.get(c.id, 0),
             "group": group_in_words(c.target_group or {}, names)} for c in campaigns]


def campaign_page(session: Session, *, agency: str, campaign_id: int, panel_url: str) -> dict:
    """One of the agency's campaigns as its page shows it (NotFound for any other): how it
    reaches people, whom it aims at in words, and its report."""
    campaign = agency_campaign(session, agency=agency, campaign_id=campaign_id)
    return {"campaign": campaign, "join_url": join_url(panel_url, campaign.code),
            "sms_keyword": sms_keyword(campaign.code),
            "group": group_in_words(campaign.target_group or {}, area_names(session)),
            "report": campaign_report(session, campaign)}
