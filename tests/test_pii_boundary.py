"""No contact detail crosses panel's boundary: emails and phone numbers typed into every free
field a caller controls on panel's side, and into a free-text answer, never reach surveys' or
feedback's databases, nor Redis, after a survey is launched, answered and closed through the
real workers."""

from __future__ import annotations

import json
import re
import zlib

from redis import Redis
from sqlalchemy import select

from services import feedback, surveys
from services.surveys.models import Invitation
from shared.db import new_session
from tests.panel.test_joining import FORM
from tests.panel.test_sms import text_in
from tests.panel.test_targets import DEMO_FILE
from tests.scenario import bearer, member_payload, setup_agencies, survey_payload

# Every planted detail is distinct, so a leak names the field it came through.
PLANTED_EMAILS = {
    "api email": "pii-api-email@example.org",
    "api extra": "pii-api-extra@example.org",
    "api undeclared extra": "pii-api-undeclared@example.org",
    "import email": "pii-import-email@example.org",
    "import external_id": "pii-import-external-id@example.org",
    "import extra": "pii-import-extra@example.org",
    "join email": "pii-join-email@example.org",
    "join campaign field": "pii-join-campaign@example.org",
    "campaign name": "pii-campaign-name@example.org",
    "consent source": "pii-consent-src@example.org",
    "agency opt-out": "pii-opt-out@example.org",
    "free-text answer": "pii-free-text@example.org",
}
PLANTED_PHONES = {  # national significant numbers: found whatever the formatting
    "api phone": "7700900401",
    "api extra phone": "7700900402",
    "import phone": "7700900403",
    "import extra phone": "7700900404",
    "join phone": "7700900405",
    "campaign name phone": "7700900406",
    "import external_id phone": "7700900407",
    "free-text answer phone": "7700900408",
}


def _plant(apps, clients, pump, sms_gateway) -> dict:
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["council"]["panel_manager"])
    panel = clients["panel"]
    assert panel.post("/api/v1/population-targets", data=DEMO_FILE.read_bytes(),
                      headers={**manager, "Content-Type": "text/csv"}).status_code == 201
    # The API: contact details where they belong, and tried in the profile's extras.
    by_email = member_payload(1)
    by_email["email"] = PLANTED_EMAILS["api email"]
    by_email["profile"]["extra"] = {"carer": "yes"}
    added = panel.post("/api/v1/members", json=by_email, headers=manager)
    assert added.status_code == 201, added.json
    by_sms = member_payload(2, "sms")
    by_sms["phone"] = f"0{PLANTED_PHONES['api phone']}"
    assert panel.post("/api/v1/members", json=by_sms, headers=manager).status_code == 201
    for index, extra in enumerate(({"club": f"write to {PLANTED_EMAILS['api extra']}"},
                                   {"club": f"text 0{PLANTED_PHONES['api extra phone']}"},
                                   {"contact": PLANTED_EMAILS["api undeclared extra"]}), start=3):
        payload = member_payload(index)
        payload["profile"]["extra"] = extra
        panel.post("/api/v1/members", json=payload, headers=manager)
    ref = added.json["member_ref"]
    panel.patch(f"/api/v1/members/{ref}/consent", headers=manager,
                json={"outcomes": True, "source": PLANTED_EMAILS["consent source"]})
    panel.post(f"/api/v1/members/{ref}/agency-opt-outs", headers=manager,
               json={"agency": PLANTED_EMAILS["agency opt-out"]})
    # A recruitment campaign whose name carries contact details.
    campaign = panel.post("/api/v1/campaigns", headers=manager, json={
        "name": f"Spring drive: {PLANTED_EMAILS['campaign name']} or "
                f"0{PLANTED_PHONES['campaign name phone']}",
        "target_group": {"age_band": ["16-24"]}})
    assert campaign.status_code == 201, campaign.json
    # A bulk import: contact columns, an external id that is an address, extras tried.
    header = ("external_id,email,phone,preferred_channel,age_band,gender,ethnicity,disability,"
              "area,consent_surveys,consent_outcomes,extra_club\n")
    body = (header
            + f"{PLANTED_EMAILS['import external_id']},{PLANTED_EMAILS['import email']},,email,"
              "35-44,male,white,disabled,E05001002,yes,yes,Chess club\n"
            + f"0{PLANTED_PHONES['import external_id phone']},,0{PLANTED_PHONES['import phone']},"
              "sms,45-54,female,asian,not_disabled,E05001003,yes,yes,\n"
            + f"X3,x3@example.org,,email,55-64,female,black,not_disabled,E05001004,yes,yes,"
              f"{PLANTED_EMAILS['import extra']}\n"
            + f"X4,x4@example.org,,email,55-64,male,black,not_disabled,E05001004,yes,yes,"
              f"0{PLANTED_PHONES['import extra phone']}\n")
    imported = panel.post("/api/v1/imports", data=body.encode(),
                          headers={**manager, "Content-Type": "text/csv"})
    assert imported.status_code == 202
    # The join page, through the campaign's link, with a contact detail in a hidden field too.
    code = campaign.json["code"]
    panel.post(f"/join?c={code}", data={**FORM, "email": PLANTED_EMAILS["join email"],
                                        "campaign": PLANTED_EMAILS["join campaign field"]})
    panel.post(f"/join?c={code}", data={**FORM, "preferred_channel": "sms", "email": "",
                                        "phone": f"0{PLANTED_PHONES['join phone']}"})
    pump()
    for link in confirm_links(apps):
        panel.post(link)
    text_in(clients, sms_gateway, f"+44{PLANTED_PHONES['join phone']}", "YES")
    return keys


def confirm_links(apps) -> list[str]:
    from services.panel.models import Delivery
    from tests.panel.test_joining import CONFIRM

    with apps["panel"].app_context(), new_session() as session:
        bodies = session.scalars(select(Delivery.body).where(
            Delivery.template == "confirm_join", Delivery.channel == "email"))
        return [CONFIRM.search(body).group(1) for body in bodies]


def _texts_of_database(app, module) -> list[tuple[str, str]]:
    """(table.column, text) of every value of every column of every table."""
    found = []
    with app.app_context(), new_session() as session:
        for table in module.models.Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    found.append((f"{table.name}.{column}", text))
    return found


def _texts_of_redis(redis: Redis) -> list[tuple[str, str]]:
    """(key, text) of every value in Redis, RQ's compressed job data unpacked."""
    def readable(raw) -> str:
        if isinstance(raw, bytes):
            try:
                raw = zlib.decompress(raw)
            except zlib.error:
                pass
            return raw.decode("utf-8", "replace")
        return str(raw)

    found = []
    for key in redis.scan_iter():
        kind = redis.type(key).decode()
        if kind == "string":
            values = [redis.get(key)]
        elif kind == "hash":
            values = [v for pair in redis.hgetall(key).items() for v in pair]
        elif kind == "list":
            values = redis.lrange(key, 0, -1)
        elif kind == "set":
            values = list(redis.smembers(key))
        elif kind == "zset":
            values = [m for m, _ in redis.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [v for _, fields in redis.xrange(key) for pair in fields.items()
                      for v in pair]
        else:
            values = []
        found += [(key.decode(), readable(v)) for v in [key, *values]]
    return found


def _leaks(texts: list[tuple[str, str]]) -> list[str]:
    leaks = []
    for where, text in texts:
        lowered, digits = text.lower(), re.sub(r"\D", "", text)
        leaks += [f"{field} in {where}" for field, email in PLANTED_EMAILS.items()
                  if email in lowered]
        leaks += [f"{field} in {where}" for field, phone in PLANTED_PHONES.items()
                  if phone in digits]
    return leaks


def test_contact_details_typed_anywhere_on_panel_never_leave_it(apps, clients, pump,
                                                               redis_server, sms_gateway):
    keys = _plant(apps, clients, pump, sms_gateway)
    officer = bearer(keys["council"]["officer"])
    created = clients["surveys"].post("/api/v1/surveys", headers=officer,
                                      json=survey_payload(sample_size=50))
    survey_id = created.json["id"]
    assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch",
                                   headers=officer).status_code == 202
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        tokens = list(session.scalars(select(Invitation.token)))
    assert len(tokens) >= 6  # members added by API, import and join page, all invited
    comment = (f"Call me on 0{PLANTED_PHONES['free-text answer phone']} or write to "
               f"{PLANTED_EMAILS['free-text answer']}")
    for token in tokens[:3]:
        clients["surveys"].post(f"/r/{token}", data={"feel_safe": "4", "comments": comment,
                                                     "priority": "Street lighting"})
    assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close",
                                   headers=officer).status_code == 200
    pump()
    dataset = clients["surveys"].get(f"/api/v1/analysis/dataset?survey_ids={survey_id}",
                                     headers=bearer(keys["council"]["analyst"]))
    texts = (_texts_of_database(apps["surveys"], surveys)
             + _texts_of_database(apps["feedback"], feedback)
             + _texts_of_redis(Redis.from_url(redis_server.url))
             + [("analyst's dataset", dataset.get_data(as_text=True))])
    assert dataset.status_code == 200, dataset.json
    assert len(texts) > 100  # the scan read the stores, not nothing
    assert _leaks(texts) == []
