"""The draw pool (the narrow table a draw reads) follows every kind of write to members.

After each write, two things hold: the pool is exactly what the members rows say (drawable
members only, with their profile and cap state), and a draw does what the member would
expect (in after consenting, out after withdrawing, STOP or erasure, resting after a draw).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from services.panel.consent import resume, set_consent, withdraw_everything
from services.panel.contact_cap import ContactCap
from services.panel.erasure import erase_member
from services.panel.members import confirm_by_link
from services.panel.models import ContactEvent, DrawPoolMember, DrawProfile, Member
from services.panel.unused_contacts import give_back_contacts
from shared.db import new_session
from tests.panel.factories import make_members, run_draw, set_member

PROFILE = ("preferred_channel", "age_band", "gender", "ethnicity", "disability", "area",
           "deprivation_decile", "tenure")


def _day(moment: datetime | None) -> int:
    return 0 if moment is None else (moment.astimezone(UTC).date()
                                     - datetime(1970, 1, 1).date()).days


def pool_matches_members(app) -> dict[int, tuple]:
    """Assert the pool is what the members rows say; the pool, by member id."""
    with app.app_context(), new_session() as session:
        expected = {m.id: (tuple(getattr(m, c) for c in PROFILE), _day(m.last_contacted_at),
                           m.cap_free_at)
                    for m in session.scalars(select(Member))
                    if m.status == "active" and m.consent_surveys and m.opted_out_at is None}
        pool = {row[0]: (tuple(row[3:]), row[1], row[2]) for row in session.execute(
            select(DrawPoolMember.member_id, DrawPoolMember.last_day, DrawPoolMember.cap_free_at,
                   *[getattr(DrawProfile, c) for c in PROFILE])
            .join(DrawProfile, DrawProfile.id == DrawPoolMember.profile_id))}
    assert pool == expected
    return pool


def _with_member(app, ref: str, change) -> None:
    with app.app_context(), new_session() as session:
        change(session, session.scalar(select(Member).where(Member.member_ref == ref)))
        session.commit()


def _drawn(app, survey_id: int, **payload) -> set[str]:
    result = run_draw(app, survey_id=survey_id, size=payload.pop("size", 50), seed=survey_id,
                      **payload)
    return {m["member_ref"] for m in result["members"]}


def _forget_draws(app) -> None:
    """The same panel as before any draw (a test's own reset, as a bulk write)."""
    with app.app_context(), new_session() as session:
        session.execute(delete(ContactEvent))
        session.execute(update(Member).values(cap_free_at=None, last_contacted_at=None))
        session.commit()


def test_joining_members_enter_the_pool_once_active_and_consenting(panel_app):
    refs = make_members(panel_app, 3, age_band="16-24")
    set_member(panel_app, refs[2], status="pending", consent_surveys=False)
    pool = pool_matches_members(panel_app)
    assert len(pool) == 2
    assert refs[2] not in _drawn(panel_app, 1)
    with panel_app.app_context(), new_session() as session:
        confirm_by_link(session, member_ref=refs[2], confirm=True, now=datetime.now(UTC))
    assert len(pool_matches_members(panel_app)) == 3
    _forget_draws(panel_app)
    assert refs[2] in _drawn(panel_app, 2)


def test_consent_withdrawn_and_given_again_takes_a_member_out_and_back(panel_app):
    refs = make_members(panel_app, 4)
    _with_member(panel_app, refs[0], lambda s, m: set_consent(s, m, "surveys", False,
                                                              source="test"))
    assert len(pool_matches_members(panel_app)) == 3
    assert refs[0] not in _drawn(panel_app, 1)
    _forget_draws(panel_app)
    _with_member(panel_app, refs[0], lambda s, m: set_consent(s, m, "surveys", True,
                                                              source="test"))
    assert len(pool_matches_members(panel_app)) == 4
    assert refs[0] in _drawn(panel_app, 2)


def test_stop_and_start_take_a_member_out_and_back(panel_app):
    refs = make_members(panel_app, 4)
    now = datetime.now(UTC)
    _with_member(panel_app, refs[1], lambda s, m: withdraw_everything(s, m, source="sms",
                                                                      now=now))
    assert len(pool_matches_members(panel_app)) == 3
    assert refs[1] not in _drawn(panel_app, 1)
    _forget_draws(panel_app)
    _with_member(panel_app, refs[1], lambda s, m: resume(s, m, source="sms", now=now))
    assert len(pool_matches_members(panel_app)) == 4
    assert refs[1] in _drawn(panel_app, 2)


def test_an_erased_member_leaves_the_pool(panel_app):
    refs = make_members(panel_app, 3)
    bus = panel_app.extensions["bus"]
    _with_member(panel_app, refs[0],
                 lambda s, m: erase_member(s, bus, m, datetime.now(UTC)))
    assert len(pool_matches_members(panel_app)) == 2
    assert len(_drawn(panel_app, 1)) == 2


def test_a_draw_rests_its_members_in_the_pool_and_giving_back_frees_them(panel_app):
    refs = make_members(panel_app, 6)
    first = _drawn(panel_app, 1, size=4)
    pool = pool_matches_members(panel_app)
    resting = [state for state in pool.values() if state[2] is not None]
    assert len(resting) == 4
    assert all(state[1] == _day(datetime.now(UTC)) for state in resting)
    assert all(state[2] > datetime.now(UTC) + timedelta(days=13) for state in resting)
    # Under the cap's gap, the next draw can only take the two not drawn.
    assert _drawn(panel_app, 2, size=4) == set(refs) - first
    with panel_app.app_context(), new_session() as session:
        give_back_contacts(session, survey_id=1, draw_id=None, member_refs=sorted(first),
                           cap=ContactCap())
        session.commit()
    pool = pool_matches_members(panel_app)
    assert sum(state[2] is not None for state in pool.values()) == 2
    assert _drawn(panel_app, 3, size=4) == first


def test_a_changed_profile_moves_the_member_to_the_new_cells(panel_app):
    refs = make_members(panel_app, 3, area="E05001001")
    set_member(panel_app, refs[0], area="E05001002", deprivation_decile=3, tenure="owned")
    pool_matches_members(panel_app)
    assert _drawn(panel_app, 1, filters={"area": ["E05001002"]}) == {refs[0]}
    assert _drawn(panel_app, 2, filters={"deprivation_decile": ["3"]}) == set()  # resting
    _forget_draws(panel_app)
    assert _drawn(panel_app, 3, quotas=[{"cell": {"tenure": "owned"}, "target": 5}]) == \
        {refs[0]}
    with panel_app.app_context(), new_session() as session:
        assert session.scalar(select(DrawProfile.id).where(
            DrawProfile.area == "E05001002", DrawProfile.tenure == "owned")) is not None


def test_bulk_writes_to_many_members_keep_the_pool(panel_app):
    make_members(panel_app, 20, age_band="16-24")
    make_members(panel_app, 20, start=100, age_band="65-74")
    run_draw(panel_app, survey_id=1, size=25, seed=4)
    pool_matches_members(panel_app)
    with panel_app.app_context(), new_session() as session:
        session.execute(update(Member).where(Member.age_band == "65-74")
                        .values(consent_surveys=False))
        session.commit()
    assert len(pool_matches_members(panel_app)) == 20
    _forget_draws(panel_app)
    pool = pool_matches_members(panel_app)
    assert all(state[1:] == (0, None) for state in pool.values())
    assert len(_drawn(panel_app, 2)) == 20
