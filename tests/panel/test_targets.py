"""Census targets in, representativeness out, and campaigns judged by whom they recruit."""

from __future__ import annotations

from pathlib import Path

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from services.surveys.models import PopulationTarget as SurveysTarget
from shared.db import new_session
from tests.panel.factories import make_members
from tests.scenario import bearer, setup_agencies

DEMO_FILE = Path(__file__).resolve().parents[2] / "services/panel/data/demo_population_targets.csv"


def upload_targets(apps, clients, pump, body: bytes | None = None):
    keys = setup_agencies(apps, pump)
    response = clients["panel"].post(
        "/api/v1/population-targets", data=body if body is not None else DEMO_FILE.read_bytes(),
        headers={**bearer(keys["council"]["panel_manager"]), "Content-Type": "text/csv"})
    return keys, response


def test_demo_census_file_imports_and_reaches_surveys_for_weighting(apps, clients, pump):
    _keys, response = upload_targets(apps, clients, pump)
    assert response.status_code == 201, response.json
    assert response.json["areas"] == 20 and response.json["vintage"] == "census-2021"
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(SurveysTarget)) > 0


def test_bad_census_rows_are_named_by_line_and_field(apps, clients, pump):
    body = (b"vintage,area,dimension,category,population\n"
            b"census-2021,E05001001,age_band,16-24,100\n"
            b"census-2021,Riverside,age_band,25-34,100\n"
            b"census-2021,E05001001,age_band,12-15,100\n"
            b"census-2021,E05001001,gender,female,lots\n")
    _keys, response = upload_targets(apps, clients, pump, body)
    assert response.status_code == 422
    assert [(e["line"], e["field"]) for e in response.json["errors"]["file"]] == [
        (3, "area"), (4, "category"), (5, "population")]


def test_every_problem_of_every_census_row_is_reported(apps, clients, pump):
    body = (b"vintage,area,area_name,dimension,category,population\n"
            b"census-2021,E05001001,Riverside Central,age_band,16-24,100\n"
            b"census-2021,Riverside,=cmd(),age_band,12-15,lots\n"
            b"census-2021,E05001001,Old Town,colour,blue,-1\n"
            + b"c" * 41 + b",E05001001,,age_band,16-24,100\n")
    _keys, response = upload_targets(apps, clients, pump, body)
    assert response.status_code == 422
    assert [(e["line"], e["field"]) for e in response.json["errors"]["file"]] == [
        (3, "category"), (3, "area"), (3, "population"), (3, "area_name"),
        (4, "dimension"), (4, "population"), (4, "area_name"), (5, "vintage")]
    assert all(e["reason"] for e in response.json["errors"]["file"])


def test_area_names_reach_surveys_and_the_representativeness_page(apps, clients, pump):
    from services.surveys.population import area_names

    _keys, response = upload_targets(apps, clients, pump)
    assert response.json["named_areas"] == 20
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        names = area_names(session)
    assert len(names) == 20 and names["E05001001"] == "Riverside Central"
    make_members(apps["panel"], 5, area="E05001001")
    page = clients["panel"].get("/representativeness?area=E05001001").data.decode()
    assert "Riverside Central" in page and '<option value="E05001002">Old Town</option>' in page
    assert "E05001001</h1>" not in page and ">E05001002<" not in page
    assert "Age: 16 to 24" in page and "age_band:" not in page


def test_a_census_file_without_area_names_still_loads(apps, clients, pump):
    body = (b"vintage,area,dimension,category,population\n"
            b"census-2021,E05001001,age_band,16-24,100\n")
    _keys, response = upload_targets(apps, clients, pump, body)
    assert response.status_code == 201 and response.json["named_areas"] == 0
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(SurveysTarget)) == 1


def test_under_represented_groups_are_ranked_by_gap(apps, clients, pump):
    keys, _ = upload_targets(apps, clients, pump)
    # A panel of 25-34s only in one ward: every other age group is missing.
    make_members(apps["panel"], 40, age_band="25-34", area="E05001001")
    make_members(apps["panel"], 5, start=100, age_band="16-24", area="E05001001")
    response = clients["panel"].get(
        "/api/v1/representativeness?area=E05001001&dimension=age_band",
        headers=bearer(keys["police"]["analyst"]))
    assert response.status_code == 200, response.json
    rows = {r["category"]: r for r in response.json["rows"]}
    assert rows["25-34"]["ratio"] > 1 and not rows["25-34"]["under_represented"]
    assert rows["16-24"]["under_represented"] and rows["16-24"]["members"] == 5
    under = response.json["under_represented"]
    assert [r["gap_members"] for r in under] == sorted((r["gap_members"] for r in under),
                                                       reverse=True)
    assert {r["category"] for r in under} >= {"35-44", "45-54", "55-64", "65-74", "75+"}
    page = clients["panel"].get("/representativeness?area=E05001001")
    assert page.status_code == 200 and b"Under-represented groups" in page.data


def test_same_report_for_a_surveys_respondents_with_small_groups_hidden(apps, clients, pump):
    keys, _ = upload_targets(apps, clients, pump)
    young = make_members(apps["panel"], 3, age_band="16-24", area="E05001001")
    old = make_members(apps["panel"], 30, start=100, age_band="75+", area="E05001001")
    middle = make_members(apps["panel"], 20, start=200, age_band="45-54", area="E05001001")
    response = clients["panel"].post(
        "/api/v1/representativeness/respondents?area=E05001001&dimension=age_band",
        json={"member_refs": young + old[:12] + middle}, headers=bearer(keys["council"]["analyst"]))
    assert response.status_code == 200, response.json
    assert response.json["small_cell_threshold"] == 10
    rows = {r["category"]: r for r in response.json["rows"]}
    # 3 young people are too few to show; 12 aged 75+ are hidden with them, or the 3
    # would be 35 minus the rest. Groups nobody is in are zeros, shown.
    assert rows["16-24"]["members"] is None and rows["16-24"]["panel_share"] is None
    assert rows["16-24"]["suppressed"] and rows["16-24"]["under_represented"] is None
    assert rows["75+"]["members"] is None and rows["75+"]["suppressed"]
    assert rows["45-54"]["members"] == 20 and rows["45-54"]["panel_share"] == round(20 / 35, 4)
    assert rows["25-34"]["members"] == 0
    bad = clients["panel"].post("/api/v1/representativeness/respondents",
                                json={"member_refs": ["x"]},
                                headers=bearer(keys["council"]["analyst"]))
    assert bad.status_code == 422 and "member_refs" in bad.json["errors"]["json"]


def test_one_member_ref_gives_away_nothing_of_that_member(apps, clients, pump):
    keys, _ = upload_targets(apps, clients, pump)
    [someone] = make_members(apps["panel"], 1, age_band="16-24", gender="male",
                             ethnicity="black", disability="disabled", area="E05001003")
    make_members(apps["panel"], 40, start=100)  # the rest of the panel, not asked about
    response = clients["panel"].post(
        "/api/v1/representativeness/respondents", json={"member_refs": [someone]},
        headers=bearer(keys["police"]["officer"]))
    assert response.status_code == 200, response.json
    body = response.json
    # Every dimension they have counts one person: all hidden. Only zeros are shown, in
    # dimensions their profile leaves empty (decile, tenure), which count nobody.
    for row in body["rows"]:
        assert row["members"] in (None, 0), row
        assert row["panel_share"] in (None, 0.0) and row["ratio"] in (None, 0.0), row
        if row["dimension"] in ("age_band", "gender", "ethnicity", "disability"):
            assert row["suppressed"] and row["members"] is None, row
    assert all(r["dimension"] in ("deprivation_decile", "tenure")
               for r in body["under_represented"])


def test_campaign_report_gives_yield_in_target_group_and_cost_per_recruit(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["college"]["panel_manager"])
    created = clients["panel"].post("/api/v1/campaigns", headers=manager, json={
        "name": "Students in two wards", "code": "UNI24",
        "target_group": {"age_band": ["16-24"], "area": ["E05001001", "E05001002"]},
        "cost": "300.00"})
    assert created.status_code == 201, created.json
    assert created.json["join_url"].endswith("/join?c=UNI24")
    assert created.json["sms_keyword"] == "JOIN UNI24"
    for index, age in enumerate(("16-24", "16-24", "16-24", "45-54")):
        response = clients["panel"].post("/join?c=UNI24", data={
            "preferred_channel": "email", "email": f"s{index}@example.org", "age_band": age,
            "gender": "female", "ethnicity": "white", "disability": "not_disabled",
            "area": "E05001001", "consent_surveys": "yes", "campaign": "UNI24"})
        assert response.status_code == 303
    pump()
    confirm_all(apps, clients)
    make_members(apps["panel"], 6, start=500, age_band="55-64", area="E05001003")
    report = clients["panel"].get(f"/api/v1/campaigns/{created.json['id']}/report",
                                  headers=manager).json
    assert report["recruits"] == 4 and report["recruits_in_target_group"] == 3
    assert report["yield_in_target_group"] == 0.75
    assert report["share_in_target_group_overall"] == 0.3
    assert report["cost_per_recruit"] == "75.00" and report["cost_per_target_recruit"] == "100.00"
    other_agency = clients["panel"].get(f"/api/v1/campaigns/{created.json['id']}/report",
                                        headers=bearer(keys["council"]["panel_manager"]))
    assert other_agency.status_code == 404


def confirm_all(apps, clients):
    from tests.panel.test_joining import confirm_links

    for link in confirm_links(apps):
        clients["panel"].post(link)


def test_surveys_queue_gets_population_targets_message(apps, clients, pump, redis_server):
    upload_targets(apps, clients, pump)
    pump.relay("panel")
    jobs = Queue("surveys", connection=Redis.from_url(redis_server.url),
                 serializer=JSONSerializer).jobs
    message = next(j.args[0] for j in jobs if j.args[0]["type"] == "surveys.population_targets")
    assert message["payload"]["areas"]["E05001001"]["gender"]["female"] > 0
