"""Bulk CSV import: good rows kept, every bad row reported, re-import idempotent, progress."""

from __future__ import annotations

from sqlalchemy import func, select

from services.panel.models import Member
from shared.db import new_session
from tests.scenario import bearer, setup_agencies

HEADER = ("external_id,email,phone,preferred_channel,language,age_band,gender,ethnicity,"
          "disability,area,deprivation_decile,tenure,consent_surveys,consent_outcomes,"
          "extra_carer\n")


def good_row(n: int) -> str:
    return (f"X{n},p{n}@example.org,,email,en,35-44,female,asian,disabled,E05001003,4,"
            f"social_rented,yes,no,{'yes' if n % 2 else ''}\n")


def _import(apps, clients, pump, body: str, key: str):
    response = clients["panel"].post("/api/v1/imports", data=body.encode(),
                                     headers={**bearer(key), "Content-Type": "text/csv"})
    assert response.status_code == 202, response.json
    assert response.json["status"] == "queued"
    pump()
    return clients["panel"].get(f"/api/v1/imports/{response.json['id']}", headers=bearer(key))


def _count(apps) -> int:
    with apps["panel"].app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(Member))


def test_bad_rows_are_reported_with_line_field_and_reason_and_good_rows_kept(apps, clients,
                                                                            pump):
    keys = setup_agencies(apps, pump)
    body = (HEADER + good_row(1)
            + "X2,not-an-email,,email,en,35-44,female,asian,disabled,E05001003,,,yes,yes,\n"
            + "X3,,07700 900123,sms,en,12-15,female,asian,disabled,E05001003,11,,yes,yes,\n"
            + good_row(4)
            + "X5,p1@example.org,,email,en,35-44,female,asian,disabled,E05001003,,,yes,yes,\n"
            + good_row(1).replace("p1@", "other@"))
    result = _import(apps, clients, pump, body, keys["council"]["panel_manager"]).json
    assert result["status"] == "finished" and result["total_rows"] == 6
    assert (result["added"], result["processed_rows"]) == (2, 6)
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (3, "email"), (4, "age_band"), (4, "deprivation_decile"), (6, "email"), (7, "external_id")]
    assert "already on the panel" in result["errors"][3]["reason"]
    assert _count(apps) == 2
    with apps["panel"].app_context(), new_session() as session:
        first = session.scalar(select(Member).where(Member.external_id == "X1"))
    assert first.extra == {"carer": "yes"} and first.tenure == "social_rented"
    assert first.consent_surveys and not first.consent_outcomes


def test_reimporting_the_same_file_adds_nobody_and_updates_by_external_id(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    key = keys["council"]["panel_manager"]
    _import(apps, clients, pump, HEADER + good_row(1) + good_row(2), key)
    again = _import(apps, clients, pump,
                    HEADER + good_row(1).replace("35-44", "45-54") + good_row(2), key).json
    assert (again["added"], again["updated"], again["errors"]) == (0, 2, [])
    assert _count(apps) == 2
    with apps["panel"].app_context(), new_session() as session:
        assert session.scalar(select(Member.age_band).where(Member.external_id == "X1")) \
            == "45-54"


def test_thousands_of_rows_import_with_progress_visible(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    body = HEADER + "".join(good_row(n) for n in range(2000))
    result = _import(apps, clients, pump, body, keys["council"]["panel_manager"]).json
    assert (result["total_rows"], result["processed_rows"], result["added"]) == (2000, 2000, 2000)
    listing = clients["panel"].get("/api/v1/imports",
                                   headers=bearer(keys["council"]["panel_manager"]))
    assert listing.json[0]["processed_rows"] == 2000
    other = clients["panel"].get(f"/api/v1/imports/{result['id']}",
                                 headers=bearer(keys["police"]["panel_manager"]))
    assert other.status_code == 404


def test_a_file_missing_a_column_is_refused_whole(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    result = _import(apps, clients, pump, "external_id,email\nX1,a@example.org\n",
                     keys["council"]["panel_manager"]).json
    assert result["status"] == "failed" and result["added"] == 0
    assert {"line": 1, "field": "age_band", "reason": "missing column"} in result["errors"]


def test_progress_is_committed_while_the_import_runs(apps, clients, pump):
    from services.panel.imports import run_import
    from services.panel.models import MemberImport

    seen = []
    app = apps["panel"]
    with app.app_context(), new_session() as session:
        run = MemberImport(agency="council", body=HEADER + "".join(good_row(n)
                                                                 for n in range(450)))
        session.add(run)
        session.commit()

        def look():  # what a second request would read right now
            with new_session() as other:
                seen.append(other.get(MemberImport, run.id).processed_rows)

        run_import(session, run, allow_drama=True, progress=look)
    assert seen == [200, 400, 450]
