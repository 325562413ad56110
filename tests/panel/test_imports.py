"""Bulk CSV import: good rows kept, every bad row reported, re-import idempotent, progress."""

from __future__ import annotations

import csv
import io

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


FULL_COLUMNS = ("external_id", "email", "phone", "preferred_channel", "language", "age_band",
                "gender", "ethnicity", "disability", "area", "deprivation_decile", "tenure",
                "consent_surveys", "consent_outcomes", "extra_carer", "extra_household_size",
                "extra_club")
# One planted problem per bad row: the change to a good row, and the column it must be named by.
BAD_KINDS = [
    ({"email": "not-an-email"}, "email"),
    ({"preferred_channel": "sms", "email": "", "phone": "0161 496 0123"}, "phone"),
    ({"preferred_channel": "sms", "email": "", "phone": "0800 123 4567"}, "phone"),
    ({"preferred_channel": "sms", "email": "", "phone": "++44 7700 900123"}, "phone"),
    ({"preferred_channel": "sms", "email": "", "phone": "0800 FLOWERS"}, "phone"),
    ({"age_band": "12-15"}, "age_band"),
    ({"gender": "unknown"}, "gender"),
    ({"ethnicity": "purple"}, "ethnicity"),
    ({"disability": "maybe"}, "disability"),
    ({"area": "Riverside"}, "area"),
    ({"deprivation_decile": "11"}, "deprivation_decile"),
    ({"deprivation_decile": "four"}, "deprivation_decile"),
    ({"tenure": "castle"}, "tenure"),
    ({"language": "fr"}, "language"),
    ({"consent_surveys": "perhaps"}, "consent_surveys"),
    ({"consent_outcomes": "?"}, "consent_outcomes"),
    ({"external_id": ""}, "external_id"),
    ({"preferred_channel": "fax"}, "preferred_channel"),
    ({"preferred_channel": "sms", "email": ""}, "phone"),
    ({"email": ""}, "email"),
    ({"external_id": '=HYPERLINK("http://evil.test","x")'}, "external_id"),
    ({"external_id": "+X"}, "external_id"),
    ({"external_id": "-X"}, "external_id"),
    ({"external_id": "@SUM(A1)"}, "external_id"),
    ({"external_id": "\tX"}, "external_id"),
    ({"external_id": "\rX"}, "external_id"),
    ({"email": "=x@example.org"}, "email"),
    ({"extra_carer": "maybe"}, "extra_carer"),
    ({"extra_household_size": "four"}, "extra_household_size"),
    ({"extra_club": "sam@example.net"}, "extra_club"),
    ({"extra_club": "07700 900123"}, "extra_club"),
    ({"extra_club": "SW1A 1AA"}, "extra_club"),
    ({"extra_club": "www.example.net"}, "extra_club"),
    ({"extra_club": "=1+1"}, "extra_club"),
    ({"extra_club": "@cmd"}, "extra_club"),
    ({"extra_club": "c" * 101}, "extra_club"),
    ({"email": "g0@example.org"}, "email"),  # the first good row's email
    ({"preferred_channel": "sms", "email": "", "phone": "07700 900501"}, "phone"),  # good row's
    ({"external_id": "G0"}, "external_id"),  # repeats the first good row
]


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, FULL_COLUMNS)  # "\r\n" lines: a cell holding "\r" is quoted
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _good(n: int, prefix: str = "G") -> dict:
    return {"external_id": f"{prefix}{n}", "email": f"{prefix.lower()}{n}@example.org",
            "phone": "", "preferred_channel": "email", "language": "cy", "age_band": "35-44",
            "gender": "female", "ethnicity": "asian", "disability": "disabled",
            "area": "E05001003", "deprivation_decile": "4", "tenure": "owned",
            "consent_surveys": "yes", "consent_outcomes": "no", "extra_carer": "yes",
            "extra_household_size": "3", "extra_club": "Allotment society"}


def test_fifty_planted_bad_rows_are_all_reported_with_line_field_and_reason(apps, clients,
                                                                           pump):
    keys = setup_agencies(apps, pump)
    rows = [_good(0), {**_good(1), "preferred_channel": "sms", "email": "",
                       "phone": "07700 900501"}]
    expected = set()
    for n in range(50):
        change, field = BAD_KINDS[n % len(BAD_KINDS)]
        rows.append({**_good(100 + n, "B"), **change})
        expected.add((len(rows) + 1, field))  # the header is line 1
        if n % 5 == 0:
            rows.append(_good(200 + n))
    result = _import(apps, clients, pump, _csv(rows), keys["council"]["panel_manager"]).json
    reported = {(e["line"], e["field"]) for e in result["errors"]}
    assert all(e["reason"] for e in result["errors"])
    assert not [e for e in result["errors"] if e["reason"].startswith(("{", "["))]  # sentences
    assert reported == expected
    assert len({line for line, _ in reported}) == 50
    assert result["added"] == len(rows) - 50
    with apps["panel"].app_context(), new_session() as session:
        kept = session.scalar(select(Member).where(Member.external_id == "G0"))
    assert kept.extra == {"carer": "yes", "household_size": "3", "club": "Allotment society"}
    assert kept.language == "cy"


def test_an_undeclared_extra_column_is_refused_before_any_row(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    body = HEADER.replace("extra_carer", "extra_email") + good_row(1)
    result = _import(apps, clients, pump, body, keys["council"]["panel_manager"]).json
    assert result["status"] == "failed" and _count(apps) == 0
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(1, "extra_email")]
    assert "not an attribute the partnership collects" in result["errors"][0]["reason"]


def test_a_file_that_is_not_csv_fails_with_a_reason_instead_of_crashing(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    body = HEADER + good_row(1) + 'X2,"' + "x" * 200_000 + '",,email\n'  # over csv's limit
    result = _import(apps, clients, pump, body, keys["council"]["panel_manager"]).json
    assert result["status"] == "failed" and _count(apps) == 0
    assert result["errors"][0]["field"] == "file"


def test_a_files_name_is_kept_without_control_characters_and_cut_to_what_is_stored(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    name = "members\x00\x1b[31m " + "é" * 300 + ".csv"
    sent = clients["panel"].post(
        "/api/v1/imports", headers=bearer(keys["council"]["panel_manager"]),
        data={"file": (io.BytesIO((HEADER + good_row(1)).encode()), name)},
        content_type="multipart/form-data")
    assert sent.status_code == 202, sent.json
    assert sent.json["filename"] == ("members[31m " + "é" * 300)[:200]
    pump()
    assert _count(apps) == 1


def test_a_column_named_twice_or_cells_beyond_the_header_are_not_read_silently(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    manager = keys["council"]["panel_manager"]
    twice = HEADER.replace("\n", ",email\n") + good_row(1).replace("\n", ",other@example.org\n")
    result = _import(apps, clients, pump, twice, manager).json
    assert result["status"] == "failed" and _count(apps) == 0
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(1, "email")]
    assert "more than once" in result["errors"][0]["reason"]
    # A trailing empty cell (as spreadsheets save) is fine; a cell with something in it is not.
    body = HEADER + good_row(1).replace("\n", ",\n") + good_row(2).replace("\n", ",Leeds\n")
    result = _import(apps, clients, pump, body, manager).json
    assert result["added"] == 1 and _count(apps) == 1
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(3, "file")]
    assert "beyond the header" in result["errors"][0]["reason"]
