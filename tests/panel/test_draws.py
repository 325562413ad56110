"""Drawing samples from the real database: quotas, shortfalls, replacement, consent and the cap."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import delete, select, update

from services.panel.contact_cap import ContactCap
from services.panel.draws import draw
from services.panel.models import AgencyOptOut, ContactEvent, DrawnBatch, Member, Outbox
from shared.db import new_session
from shared.messages import build_message
from tests.panel.factories import make_members, member, run_draw, set_member

YOUNG = {"age_band": "16-24", "area": "E05001001"}
OLD = {"age_band": "65-74", "area": "E05001001"}


def _quotas(young: int, old: int) -> list[dict]:
    return [{"cell": {"age_band": "16-24"}, "target": young},
            {"cell": {"age_band": "65-74"}, "target": old}]


def _refs(result) -> set[str]:
    return {m["member_ref"] for m in result["members"]}


def test_quotas_are_met_exactly_when_the_panel_has_enough(panel_app):
    make_members(panel_app, 30, **YOUNG)
    make_members(panel_app, 30, start=100, **OLD)
    result = run_draw(panel_app, size=15, quotas=_quotas(5, 10), seed=1)
    ages = [m["profile"]["age_band"] for m in result["members"]]
    assert ages.count("16-24") == 5 and ages.count("65-74") == 10
    assert result["shortfall"] == 0
    assert [(c["target"], c["drawn"], c["shortfall"]) for c in result["cells"]] == \
        [(5, 5, 0), (10, 10, 0)]


def test_short_cell_reports_its_shortfall_and_why(panel_app):
    young = make_members(panel_app, 4, **YOUNG)
    make_members(panel_app, 30, start=100, **OLD)
    set_member(panel_app, young[0], consent_surveys=False)
    result = run_draw(panel_app, size=15, quotas=_quotas(5, 10), seed=1)
    young_cell = result["cells"][0]
    assert (young_cell["target"], young_cell["drawn"], young_cell["shortfall"]) == (5, 3, 2)
    assert "4 eligible-profile member(s)" in young_cell["reason"]
    assert "1 without consent" in young_cell["reason"]
    assert result["cells"][1]["shortfall"] == 0
    assert result["shortfall"] == 2


def test_excluded_member_is_replaced_from_the_same_cell(panel_app):
    make_members(panel_app, 10, **YOUNG)
    make_members(panel_app, 10, start=100, **OLD)
    first = run_draw(panel_app, survey_id=7, size=6, quotas=_quotas(3, 3), seed=11)
    young_drawn = [m["member_ref"] for m in first["members"]
                   if m["profile"]["age_band"] == "16-24"]
    with panel_app.app_context(), new_session() as session:  # forget the draw, same panel
        session.execute(delete(ContactEvent))
        session.execute(update(Member).values(cap_free_at=None, last_contacted_at=None))
        session.commit()
    again = run_draw(panel_app, survey_id=7, size=6, quotas=_quotas(3, 3), seed=11,
                     exclude_member_refs=[young_drawn[0]])
    young_again = [m["member_ref"] for m in again["members"]
                   if m["profile"]["age_band"] == "16-24"]
    assert young_drawn[0] not in young_again and len(young_again) == 3
    assert set(young_drawn[1:]) <= set(young_again)
    old = lambda r: {m["member_ref"] for m in r["members"] if m["profile"]["age_band"] != "16-24"}  # noqa: E731
    assert old(again) == old(first)


def test_the_same_seed_draws_the_same_members(panel_app):
    make_members(panel_app, 50, **YOUNG)
    first = _refs(run_draw(panel_app, size=10, seed=99))
    with panel_app.app_context(), new_session() as session:
        session.execute(delete(ContactEvent))
        session.execute(update(Member).values(cap_free_at=None, last_contacted_at=None))
        session.commit()
    assert _refs(run_draw(panel_app, size=10, seed=99)) == first
    assert len(first) == 10


def test_member_over_contact_cap_is_not_invited(panel_app):
    refs = make_members(panel_app, 3, **YOUNG)
    first = run_draw(panel_app, survey_id=1, size=3, sponsors=["council"])
    assert _refs(first) == set(refs)
    # Two weeks must pass between invitations, whichever agency asks.
    second = run_draw(panel_app, survey_id=2, size=3, sponsors=["police"])
    assert second["members"] == [] and second["shortfall"] == 3
    assert "3 resting under the contact cap" in run_draw(
        panel_app, survey_id=3, size=3, quotas=[{"cell": {"age_band": "16-24"}, "target": 3}]
    )["cells"][0]["reason"]


def test_no_more_than_three_invitations_in_ninety_days(panel_app, monkeypatch):
    monkeypatch.setitem(panel_app.config, "CONTACT_CAP_MIN_GAP_DAYS", 0)
    refs = make_members(panel_app, 3, **YOUNG)
    for survey_id, agency in ((1, "council"), (2, "police"), (3, "health")):
        assert _refs(run_draw(panel_app, survey_id=survey_id, size=3,
                              sponsors=[agency])) == set(refs)
    assert run_draw(panel_app, survey_id=4, size=3, sponsors=["college"])["members"] == []
    assert member(panel_app, refs[0]).cap_free_at is not None


def test_least_recently_contacted_are_preferred(panel_app, monkeypatch):
    refs = make_members(panel_app, 4, **YOUNG)
    monkeypatch.setitem(panel_app.config, "CONTACT_CAP_MIN_GAP_DAYS", 0)
    first = _refs(run_draw(panel_app, survey_id=1, size=2, seed=3))
    second = _refs(run_draw(panel_app, survey_id=2, size=2, seed=3))
    assert first | second == set(refs) and not first & second


def test_stopped_member_is_never_drawn_by_any_agency(panel_app):
    refs = make_members(panel_app, 5, **YOUNG)
    set_member(panel_app, refs[0], opted_out_at=datetime.now(UTC))
    for survey_id, agency in enumerate(("council", "police", "health", "college"), start=1):
        drawn = _refs(run_draw(panel_app, survey_id=survey_id, size=5, sponsors=[agency]))
        assert refs[0] not in drawn
        with panel_app.app_context(), new_session() as session:
            session.execute(update(Member).values(cap_free_at=None))
            session.commit()


def test_agency_opt_out_blocks_only_that_agencys_surveys(panel_app):
    refs = make_members(panel_app, 3, **YOUNG)
    with panel_app.app_context(), new_session() as session:
        member_id = session.scalar(select(Member.id).where(Member.member_ref == refs[0]))
        session.add(AgencyOptOut(member_id=member_id, agency="police"))
        session.commit()
    assert refs[0] not in _refs(run_draw(panel_app, survey_id=1, size=3,
                                         sponsors=["council", "police"]))
    with panel_app.app_context(), new_session() as session:
        session.execute(update(Member).values(cap_free_at=None))
        session.commit()
    assert refs[0] in _refs(run_draw(panel_app, survey_id=2, size=3, sponsors=["council"]))


def test_filters_and_channels_limit_who_is_eligible(panel_app):
    make_members(panel_app, 5, **YOUNG)
    sms = make_members(panel_app, 5, start=200, channel="sms", **YOUNG)
    make_members(panel_app, 5, start=300, age_band="16-24", area="E05001002")
    result = run_draw(panel_app, size=20, channels=["sms"], filters={"area": ["E05001001"]})
    assert _refs(result) == set(sms) and result["shortfall"] == 15


def test_proportional_quotas_use_the_census_targets(apps, panel_app, clients, pump):
    from tests.panel.test_targets import upload_targets

    upload_targets(apps, clients, pump)
    make_members(panel_app, 40, **YOUNG)
    make_members(panel_app, 40, start=100, **OLD)
    result = run_draw(panel_app, size=10, proportional_dimensions=["age_band"],
                      filters={"area": ["E05001001"]})
    targets = {c["cell"]["age_band"]: c["target"] for c in result["cells"]}
    assert sum(targets.values()) == 10
    assert all(c["shortfall"] == 0 for c in result["cells"]
               if c["cell"]["age_band"] in ("16-24", "65-74"))


def test_sample_reaches_surveys_through_the_queues_with_cells_in_the_first_batch(
        apps, panel_app, pump, redis_server):
    make_members(panel_app, 120, **YOUNG)  # DELIVERY_BATCH_SIZE is 50 in tests
    with apps["surveys"].app_context(), new_session() as session:
        apps["surveys"].extensions["bus"].send(session, "panel.draw_sample", {
            "survey_id": 999, "size": 110, "sponsors": ["council"], "seed": 1,
            "quotas": [{"cell": {"age_band": "16-24"}, "target": 110}]})
        session.commit()
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")
    jobs = Queue("surveys", connection=Redis.from_url(redis_server.url),
                 serializer=JSONSerializer).jobs
    batches = [j.args[0]["payload"] for j in jobs if j.args[0]["type"] == "surveys.sample_drawn"]
    assert [len(b["members"]) for b in batches] == [50, 50, 10]
    assert batches[0]["cells"][0]["drawn"] == 110 and batches[1]["cells"] == []
    member_fields = batches[0]["members"][0]
    assert set(member_fields["profile"]) >= {"age_band", "deprivation_decile", "tenure", "extra"}
    assert "@example.org" not in str(batches)


@pytest.mark.postgresql_only
def test_concurrent_draws_never_push_a_member_over_the_cap(panel_app):
    make_members(panel_app, 30, **YOUNG)
    payload = {"size": 20, "seed": 5, "quotas": [], "proportional_dimensions": [],
               "filters": {}, "exclude_member_refs": [], "channels": ["email", "sms"]}
    cap = ContactCap.from_config(panel_app.config)
    outcome = {}

    def second_draw():
        outcome["police"] = run_draw(panel_app, survey_id=2, sponsors=["police"], size=20,
                                     seed=5)

    with panel_app.app_context(), new_session() as session:
        # The council's draw has chosen and locked its 20 but not yet committed...
        first = draw(session, {**payload, "survey_id": 1, "sponsors": ["council"]}, cap,
                     datetime.now(UTC))
        assert len(first.member_ids) == 20
        police = threading.Thread(target=second_draw)
        police.start()
        police.join(timeout=1.5)
        # ...so the police draw, which saw all 30 free, waits on those rows.
        assert police.is_alive()
        session.commit()
    police.join(timeout=30)
    council = set(first.member_ids)
    with panel_app.app_context(), new_session() as session:
        police_ids = set(session.scalars(select(Member.id).where(Member.member_ref.in_(
            [m["member_ref"] for m in outcome["police"]["members"]]))))
        per_member = session.execute(select(ContactEvent.member_id)).scalars().all()
    assert not council & police_ids
    assert len(police_ids) == 10 and outcome["police"]["shortfall"] == 10
    assert len(per_member) == len(set(per_member)) == 30


@pytest.mark.postgresql_only
def test_two_draws_racing_in_threads_share_out_members_without_overlap(panel_app):
    make_members(panel_app, 40, **YOUNG)
    barrier = threading.Barrier(2)
    results = {}

    def run(agency, survey_id):
        barrier.wait()
        results[agency] = run_draw(panel_app, survey_id=survey_id, sponsors=[agency],
                                   size=30, seed=1)

    threads = [threading.Thread(target=run, args=(a, i)) for i, a in
               enumerate(("council", "health"), start=1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    council, health = _refs(results["council"]), _refs(results["health"])
    assert not council & health
    assert len(council) + len(health) == 40


def _sample_drawn(app) -> list[dict]:
    with app.app_context(), new_session() as session:
        return [json.loads(body)["payload"] for body in session.scalars(
            select(Outbox.body).where(Outbox.type == "surveys.sample_drawn").order_by(Outbox.id))]


def test_a_draw_stopped_between_its_batches_tells_the_rest_once_when_run_again(panel_app):
    from services.panel.draws import keep_draw, next_untold_batch, tell_batch
    from services.panel.jobs import draw_sample

    make_members(panel_app, 120, **YOUNG)  # DELIVERY_BATCH_SIZE is 50 in tests
    envelope = build_message("panel.draw_sample", {
        "survey_id": 7, "size": 110, "sponsors": ["council"], "seed": 1,
        "quotas": [{"cell": {"age_band": "16-24"}, "target": 110}]})
    cap = ContactCap.from_config(panel_app.config)
    bus = panel_app.extensions["bus"]
    with panel_app.app_context(), new_session() as session:
        # What a worker stopped after telling the first batch had committed: the draw with its
        # batches kept, then the first batch told.
        bus.handle(session, "panel.draw_sample", envelope, lambda session, payload: keep_draw(
            session, payload, key=envelope["message_id"], cap=cap, batch_size=50,
            now=datetime.now(UTC)))
        tell_batch(session, bus, next_untold_batch(session, envelope["message_id"]))
        session.commit()
    assert [len(b["members"]) for b in _sample_drawn(panel_app)] == [50]
    with panel_app.app_context():
        assert draw_sample(envelope) is False  # RQ runs the job again: drawn already
        draw_sample(envelope)  # and once more: nothing is left to tell
        with new_session() as session:
            contacts = session.scalars(select(ContactEvent.member_id)).all()
            assert session.scalars(select(DrawnBatch)).all() == []
    batches = _sample_drawn(panel_app)
    assert [len(b["members"]) for b in batches] == [50, 50, 10]
    assert batches[0]["cells"][0]["drawn"] == 110 and batches[1]["cells"] == []
    refs = [m["member_ref"] for b in batches for m in b["members"]]
    assert len(refs) == len(set(refs)) == 110 == len(contacts) == len(set(contacts))


def test_a_draw_whose_job_stopped_for_good_after_drawing_is_told_by_the_sweep(panel_app):
    from services.panel.draws import KEPT_TOO_LONG, keep_draw
    from services.panel.jobs import tell_kept_draws

    make_members(panel_app, 60, **YOUNG)
    envelope = build_message("panel.draw_sample", {
        "survey_id": 8, "size": 60, "sponsors": ["council"], "seed": 1})
    drawn_at = datetime.now(UTC)
    with panel_app.app_context(), new_session() as session:
        panel_app.extensions["bus"].handle(
            session, "panel.draw_sample", envelope, lambda session, payload: keep_draw(
                session, payload, key=envelope["message_id"],
                cap=ContactCap.from_config(panel_app.config), batch_size=50, now=drawn_at))
    with panel_app.app_context():
        assert tell_kept_draws(now=drawn_at + KEPT_TOO_LONG / 2) == 0  # its job may yet
        assert _sample_drawn(panel_app) == []
        assert tell_kept_draws(now=drawn_at + KEPT_TOO_LONG * 2) == 2
        assert tell_kept_draws(now=drawn_at + KEPT_TOO_LONG * 3) == 0
    assert [len(b["members"]) for b in _sample_drawn(panel_app)] == [50, 10]


def test_draw_message_breaking_the_contract_is_refused_and_draws_nobody(panel_app):
    from services.panel.jobs import draw_sample
    from shared.messages import ContractError

    make_members(panel_app, 5)
    with panel_app.app_context():
        with pytest.raises(ContractError):
            draw_sample(build_message("panel.draw_sample",
                                      {"survey_id": 1, "size": 0, "sponsors": []}))
        with new_session() as session:
            assert session.scalars(select(ContactEvent)).all() == []


def _members_invited_to(apps, survey_id: int) -> set[str]:
    from services.surveys.models import Invitation

    with apps["surveys"].app_context(), new_session() as session:
        return set(session.scalars(select(Invitation.member_ref).where(
            Invitation.survey_id == survey_id)))


def test_a_survey_closed_before_its_draw_is_processed_gives_the_contact_slots_back(
        apps, clients, pump):
    from tests.scenario import add_members, setup_agencies
    from tests.surveys.steps import launch

    keys = setup_agencies(apps, pump)
    refs = {m["member_ref"] for m in add_members(
        clients["panel"], keys["council"]["panel_manager"], 3)}
    first, officer, _ = launch(apps, clients, pump, keys=keys, sample_size=3)
    closed = clients["surveys"].post(f"/api/v1/surveys/{first}/close", headers=officer)
    assert closed.status_code == 200  # before panel has even drawn its sample
    pump()  # panel draws and reserves three slots; surveys invites nobody and says so
    assert _members_invited_to(apps, first) == set()
    with apps["panel"].app_context(), new_session() as session:
        assert session.scalars(select(ContactEvent)).all() == []
        assert set(session.execute(select(Member.last_contacted_at, Member.cap_free_at))) == {
            (None, None)}
    # Another survey can draw the same three members straight away.
    second, _, _ = launch(apps, clients, pump, keys=keys, sample_size=3)
    pump()
    assert _members_invited_to(apps, second) == refs


def test_an_unused_slot_is_given_back_but_an_earlier_invitation_still_counts(panel_app):
    from services.panel.jobs import contacts_unused

    [ref] = make_members(panel_app, 1)
    run_draw(panel_app, survey_id=1, size=1, draw_id="launch")
    with panel_app.app_context(), new_session() as session:
        # That first invitation was long ago: the member is free again.
        long_ago = datetime(2026, 1, 1, tzinfo=UTC)
        session.execute(update(ContactEvent).values(contacted_at=long_ago))
        session.execute(update(Member).values(last_contacted_at=long_ago, cap_free_at=None))
        session.commit()
    assert _refs(run_draw(panel_app, survey_id=2, size=1, draw_id="launch")) == {ref}
    with panel_app.app_context():
        assert contacts_unused(build_message("panel.contacts_unused", {
            "survey_id": 2, "draw_id": "launch", "member_refs": [ref]}))
    cap = ContactCap()
    freed = member(panel_app, ref)
    assert freed.last_contacted_at.replace(tzinfo=UTC) == datetime(2026, 1, 1, tzinfo=UTC)
    assert freed.cap_free_at.replace(tzinfo=UTC) == datetime(2026, 1, 1, tzinfo=UTC) + cap.min_gap


def test_surveys_tells_panel_of_sampled_members_it_invited_before(apps, clients, pump):
    from tests.surveys.steps import drawn, launch, sent
    from tests.surveys.steps import member as sampled

    survey_id, _, _ = launch(apps, clients, pump, sample_size=2)
    again, new = sampled(), sampled()
    drawn(pump, survey_id, [again])
    drawn(pump, survey_id, [again], draw_id="launch")  # the same draw's batch: slot in use
    assert sent(apps["surveys"], "panel.contacts_unused") == []
    drawn(pump, survey_id, [again, new], draw_id="topup:1")
    assert sent(apps["surveys"], "panel.contacts_unused") == [
        {"survey_id": survey_id, "draw_id": "topup:1", "member_refs": [again["member_ref"]]}]
    assert new["member_ref"] in _members_invited_to(apps, survey_id)
