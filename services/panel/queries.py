"""What panel's entry points read: members, imports, campaigns, deliveries and the
representativeness reports, each scoped to the caller where it belongs to an agency."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from services.panel.models import Campaign, Delivery, Member, MemberImport
from services.panel.representativeness import (
    dimension_sections,
    disclosed_report,
    ranked_under,
    report,
)
from services.panel.targets import area_names, margins_from_db, member_counts
from shared.db import among
from shared.errors import NotFound

IN_CLAUSE_CHUNK = 1000


def find_member(session: Session, member_ref: str | None) -> Member | None:
    """The member with this ref, whatever their status, or None."""
    if not member_ref:
        return None
    return session.scalar(select(Member).where(Member.member_ref == str(member_ref)))


def panel_member(session: Session, member_ref) -> Member:
    """A member not erased; otherwise as if there were none."""
    member = session.scalar(select(Member).where(
        Member.member_ref == str(member_ref), Member.status != "erased"))
    if member is None:
        raise NotFound("No such member.")
    return member


def members() -> Select:
    """Members not erased, newest first."""
    return select(Member).where(Member.status != "erased").order_by(Member.id.desc())


def imports_of(agency: str) -> Select:
    return select(MemberImport).where(MemberImport.agency == agency) \
        .order_by(MemberImport.id.desc())


def agency_import(session: Session, *, agency: str, import_id: int) -> MemberImport:
    run = session.get(MemberImport, import_id)
    if run is None or run.agency != agency:
        raise NotFound("No such import.")
    return run


def campaigns_of(agency: str) -> Select:
    return select(Campaign).where(Campaign.agency == agency).order_by(Campaign.id.desc())


def agency_campaign(session: Session, *, agency: str, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.agency != agency:
        raise NotFound("No such campaign.")
    return campaign


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.code == code)) if code else None


def deliveries(status: str | None = None) -> Select:
    """The contact log, newest first, narrowed to one status when given."""
    query = select(Delivery).order_by(Delivery.id.desc())
    return query.where(Delivery.status == status) if status else query


def _narrowed(result: dict, area: str | None, dimension: str | None) -> dict:
    keep = [r for r in result["rows"] if (not area or r["area"] == area)
            and (not dimension or r["dimension"] == dimension)]
    under = [r for r in result["under_represented"] if r in keep]
    return {**result, "rows": keep, "under_represented": under}


def panel_report(session: Session, *, threshold: float, area: str | None = None,
                 dimension: str | None = None) -> dict:
    """The panel against the census, narrowed to one area or dimension when given."""
    result = report(margins_from_db(session), member_counts(session), threshold)
    return _narrowed(result, area, dimension)


def respondents_report(session: Session, *, member_refs: list[str], threshold: float,
                       small_cell_threshold: int, area: str | None = None,
                       dimension: str | None = None) -> dict:
    """The same report for a survey's respondents, small groups hidden."""
    counts: dict = {}
    # PostgreSQL takes every ref as one array, hashed in one pass over the members (20,000
    # respondents among 100,000 members: 0.2 s, against 1.4 s in chunks of a thousand).
    chunk = len(member_refs) or 1 if session.get_bind().dialect.name == "postgresql" \
        else IN_CLAUSE_CHUNK
    for start in range(0, len(member_refs), chunk):
        part = member_counts(session, among(session, Member.member_ref,
                                            member_refs[start:start + chunk]))
        for ward, dims in part.items():
            for dim, cats in dims.items():
                for cat, n in cats.items():
                    slot = counts.setdefault(ward, {}).setdefault(dim, {})
                    slot[cat] = slot.get(cat, 0) + n
    result = report(margins_from_db(session), counts, threshold)
    # Refs name people: without the small-cell rule one ref would return its profile.
    return _narrowed(disclosed_report(result, small_cell_threshold), area, dimension)


def ward_report(session: Session, *, area: str, threshold: float) -> dict:
    """What the representativeness page shows of one ward (or "all"), with ward names."""
    result = report(margins_from_db(session), member_counts(session), threshold)
    names = area_names(session)
    # People read ward names and category words, never codes.
    areas = sorted(((a, names.get(a) or a) for a in {r["area"] for r in result["rows"]}
                    - {"all"}), key=lambda ward: ward[1])
    return {"rows": [r for r in result["rows"] if r["area"] == area],
            "under": [r for r in result["under_represented"] if r["area"] == area],
            "area": area, "area_name": names.get(area) or area, "areas": areas,
            "threshold": threshold}


def join_page_wards(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every ward with targets, by name; an unnamed ward shows its code."""
    names = area_names(session)
    return sorted(((code, names.get(code) or code) for code in margins_from_db(session)),
                  key=lambda ward: ward[1])


def members_by_status(session: Session) -> dict[str, int]:
    """How many members the panel has in each status (erased ones kept as a count only)."""
    return dict(session.execute(
        select(Member.status, func.count()).group_by(Member.status)).all())


SEARCH_LIMIT = 50


def search_members(session: Session, text: str, phone: str | None = None) -> list[Member]:
    """Members not erased whose email, phone, member_ref or external id is `text` (an email
    address or id may be given in part); `phone` is the text read as a number, if it is one."""
    text = text.strip()
    if not text:
        return []
    like = f"%{text.lower()}%"
    clauses = [func.lower(Member.email).like(like), Member.member_ref == text.lower(),
               Member.external_id == text]
    if phone:
        clauses.append(Member.phone == phone)
    return list(session.scalars(select(Member).where(
        Member.status != "erased", or_(*clauses)).order_by(Member.id.desc())
        .limit(SEARCH_LIMIT)))


def console_representativeness(session: Session, *, area: str, threshold: float,
                               small_cell_threshold: int) -> dict:
    """The console's report of the panel for one ward (or "all"): per dimension in natural
    order, with names, small cells hidden by the one rule (shared/disclosure.py)."""
    result = disclosed_report(report(margins_from_db(session), member_counts(session),
                                     threshold), small_cell_threshold)
    names = area_names(session)
    areas = sorted(((a, names.get(a) or a) for a in {r["area"] for r in result["rows"]}
                    - {"all"}), key=lambda ward: ward[1])
    return {"sections": dimension_sections(result, area, names),
            "under": ranked_under(result, area), "area": area,
            "area_name": names.get(area) or area, "areas": areas, "threshold": threshold,
            "small_cell_threshold": small_cell_threshold}
