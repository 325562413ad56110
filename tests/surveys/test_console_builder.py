"""The officer's survey builder in the console: a survey built page by page is the survey the
API reads back; bad input is named against its field and saves nothing; only the lead
agency's officers edit; a copy has the same questions; the list filters and searches."""

from __future__ import annotations

import re
from datetime import date, timedelta

from services.surveys.population import replace_targets
from shared.db import new_session
from tests.scenario import bearer, member_payload, setup_agencies, survey_payload
from tests.staff import add_staff, sign_in
from tests.surveys.steps import invitations, launch

WARDS = {"E05001001": "Riverside Central", "E05001002": "Old Town", "E05001003": "Millbrook"}
SOON = date.today() + timedelta(days=40)
LATER = date.today() + timedelta(days=60)


def with_wards(apps) -> None:
    """The census margins panel sends surveys, with each ward's name."""
    with apps["surveys"].app_context(), new_session() as session:
        replace_targets(session, {
            "vintage": "census-2021", "area_names": WARDS,
            "areas": {code: {"age_band": {"16-24": 100}} for code in WARDS}})
        session.commit()


def officer_signed_in(apps, clients, pump, agency="council", role="officer"):
    keys = setup_agencies(apps, pump)
    with_wards(apps)
    add_staff(apps, email=f"{role}@{agency}.example", agency=agency, role=role)
    sign_in(apps, clients, f"{role}@{agency}.example")
    return keys


def post(clients, path, data, status=303):
    answer = clients["surveys"].post(path, data=data)
    assert answer.status_code == status, answer.data.decode()[:3000]
    return answer


def date_fields(name: str, day: date) -> dict:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month),
            f"{name}-year": str(day.year)}


def new_draft(clients, title="Buses in Riverside") -> int:
    answer = post(clients, "/surveys/new", {"title": title, "start": "scratch"})
    return int(re.search(r"/surveys/(\d+)/build$", answer.headers["Location"]).group(1))


def api_survey(clients, keys, survey_id, agency="council") -> dict:
    answer = clients["surveys"].get(f"/api/v1/surveys/{survey_id}",
                                    headers=bearer(keys[agency]["officer"]))
    assert answer.status_code == 200, answer.json
    return answer.json


def build_through_pages(clients, keys) -> int:
    """Everything the create API takes, entered page by page as an officer would."""
    clients["surveys"].post("/api/v1/question-bank", headers=bearer(keys["health"]["officer"]),
                            json={"code": "wellbeing", "type": "rating",
                                  "text": "How satisfied are you with life nowadays?",
                                  "scale": {"min": 0, "max": 10}})
    survey_id = new_draft(clients)
    build = f"/surveys/{survey_id}/build"
    post(clients, f"{build}/details", {
        "title": "Buses in Riverside", "summary": "Tell us how you travel.",
        "purpose": "To decide which bus routes to keep.",
        "scope": "Routes and times can change; fares cannot.",
        "decision-description": "Choose the routes the council funds",
        "decision-owner": "Transport committee", **date_fields("decision-due", LATER)})
    post(clients, f"{build}/sponsors", {"share-council": "70", "share-police": "30",
                                        "open_to_join": "no"})
    post(clients, f"{build}/areas", {"areas": ["E05001001", "E05001003"],
                                     "topics": "transport\nbuses\n"})
    post(clients, f"{build}/fieldwork", {
        **date_fields("fieldwork-start", SOON), **date_fields("fieldwork-end", LATER),
        "sample_size": "400", "target_completes": "150",
        # Counts an older page sent beside the rows are not read (nor can they hang the
        # server): the rows are read from their fields' names.
        "quota_rows": "99999999999999999999", "quota_groups": "²",
        "quotas-0-cell-0": "age_band:16-24", "quotas-0-cell-1": "",
        "quotas-0-target": "30", "quotas-1-cell-0": "area:E05001003",
        "quotas-1-cell-1": "gender:female", "quotas-1-target": "20",
        "channels": ["web", "sms_dialogue"], "reminder_days": "7, 3"})
    post(clients, f"{build}/languages", {"languages": ["en", "cy"]})
    questions = f"{build}/questions"
    post(clients, f"{questions}/new", {
        "code": "uses_bus", "type": "yes_no", "text": "Do you use the bus?", "required": "yes",
        "translations-cy-text": "Ydych chi'n defnyddio'r bws?"})
    post(clients, f"{questions}/new", {
        "code": "route", "type": "single_choice", "text": "Which route do you use most?",
        "options": "Route 1\nRoute 2\n", "required": "no", "show_if": ["uses_bus:yes"],
        "translations-cy-text": "Pa lwybr ydych chi'n ei ddefnyddio fwyaf?",
        "translations-cy-options": "Llwybr 1\nLlwybr 2"})
    post(clients, f"{questions}/new", {
        "code": "stops", "type": "number", "text": "How many stops do you travel?",
        "min": "1", "max": "40", "required": "yes"})
    post(clients, f"{questions}/bank", {"bank_code": "wellbeing", "required": "no"})
    return survey_id


def test_an_officer_builds_a_whole_survey_in_the_pages_and_the_api_reads_it_back(
        apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    survey_id = build_through_pages(clients, keys)
    questions = f"/surveys/{survey_id}/build/questions"
    # Reordered and edited through the pages too.
    post(clients, f"{questions}/stops/move", {"direction": "up"})
    post(clients, f"{questions}/stops/move", {"direction": "up"})
    post(clients, f"{questions}/stops", {
        "code": "stops", "type": "number", "text": "How many stops do you usually travel?",
        "min": "1", "max": "30", "required": "yes"})
    post(clients, f"{questions}/new", {"code": "extra", "type": "free_text",
                                       "text": "Anything else?", "required": "no"})
    post(clients, f"{questions}/extra/remove", {})

    survey = api_survey(clients, keys, survey_id)
    assert {k: survey[k] for k in ("title", "summary", "purpose", "scope", "lead_agency",
                                   "status", "open_to_join")} == {
        "title": "Buses in Riverside", "summary": "Tell us how you travel.",
        "purpose": "To decide which bus routes to keep.",
        "scope": "Routes and times can change; fares cannot.", "lead_agency": "council",
        "status": "draft", "open_to_join": False}
    assert survey["decision"] == {"description": "Choose the routes the council funds",
                                  "owner": "Transport committee", "due": LATER.isoformat()}
    assert survey["sponsors"] == [{"agency": "council", "cost_share": "70.00"}]
    assert [(i["agency"], i["proposed_cost_share"], i["status"])
            for i in survey["invitations"]] == [("police", "30.00", "pending")]
    assert survey["areas"] == ["E05001001", "E05001003"]
    assert survey["topics"] == ["transport", "buses"]
    assert survey["fieldwork"] == {"start": SOON.isoformat(), "end": LATER.isoformat()}
    assert (survey["sample_size"], survey["target_completes"]) == (400, 150)
    assert survey["quotas"] == [{"cell": {"age_band": "16-24"}, "target": 30},
                                {"cell": {"area": "E05001003", "gender": "female"},
                                 "target": 20}]
    assert survey["channels"] == ["web", "sms_dialogue"]
    assert survey["reminder_days"] == [3, 7]
    assert survey["languages"] == ["en", "cy"]
    by_code = {q["code"]: q for q in survey["questions"]}
    assert [q["code"] for q in survey["questions"]] == ["stops", "uses_bus", "route",
                                                        "wellbeing"]
    assert by_code["uses_bus"]["translations"] == {
        "cy": {"text": "Ydych chi'n defnyddio'r bws?", "options": [], "labels": []}}
    assert by_code["route"]["show_if"] == {"question": "uses_bus", "in": ["yes"]}
    assert by_code["route"]["required"] is False
    assert by_code["route"]["options"] == ["Route 1", "Route 2"]
    assert by_code["route"]["translations"]["cy"]["options"] == ["Llwybr 1", "Llwybr 2"]
    assert (by_code["stops"]["text"], by_code["stops"]["min"], by_code["stops"]["max"]) == (
        "How many stops do you usually travel?", 1, 30)
    assert by_code["wellbeing"]["bank_code"] == "wellbeing"
    assert by_code["wellbeing"]["scale"] == {"min": 0, "max": 10, "labels": []}
    assert by_code["wellbeing"]["required"] is False

    # The pages show names, never codes: wards and agencies.
    areas_page = clients["surveys"].get(f"/surveys/{survey_id}/build/areas").data.decode()
    assert "Riverside Central" in areas_page and ">E05001001<" not in areas_page
    sponsors_page = clients["surveys"].get(f"/surveys/{survey_id}/build/sponsors").data.decode()
    assert "Riverside Police" in sponsors_page and "Invited, not yet answered" in sponsors_page


def test_bad_input_is_named_in_the_error_summary_and_nothing_bad_is_saved(apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    survey_id = new_draft(clients)
    build = f"/surveys/{survey_id}/build"
    details = post(clients, f"{build}/details", {
        "title": "x", "decision-owner": "Transport committee",
        "decision-due-day": "31", "decision-due-month": "2", "decision-due-year": "2027"},
        status=400).data.decode()
    assert "<title>Error:" in details and "There is a problem" in details
    assert '<a href="#title">Title: Length must be between 3 and 200.</a>' in details
    assert '<a href="#decision-description">Decision it informs: Missing data for required ' \
           'field.</a>' in details
    assert '<a href="#decision-due">Decision due date: Not a valid date.</a>' in details
    # What was typed is shown again.
    assert 'value="Transport committee"' in details

    shares = post(clients, f"{build}/sponsors", {"share-council": "60", "share-police": "30"},
                  status=400).data.decode()
    assert "Cost shares must add up to 100; they add up to 90.00." in shares
    # The API says the same in the same words.
    api = clients["surveys"].patch(f"/api/v1/surveys/{survey_id}",
                                   headers=bearer(keys["council"]["officer"]),
                                   json={"sponsors": [{"agency": "council", "cost_share": "60"},
                                                      {"agency": "police", "cost_share": "30"}]})
    assert api.status_code == 422
    assert api.json["errors"]["json"]["sponsors"] == [
        "Cost shares must add up to 100; they add up to 90.00."]

    questions = f"{build}/questions"
    one_option = post(clients, f"{questions}/new", {
        "code": "route", "type": "single_choice", "text": "Which route?", "options": "Only"},
        status=400).data.decode()
    assert '<a href="#options">Options: A single-choice question needs at least 2 options.</a>' \
        in one_option
    post(clients, f"{questions}/new", {"code": "uses_bus", "type": "yes_no",
                                       "text": "Do you use the bus?"})
    post(clients, f"{questions}/new", {"code": "why", "type": "free_text", "text": "Why?",
                                       "show_if": ["uses_bus:yes"]})
    # Show-if must refer to an earlier question: neither a move nor a removal may break it.
    moved = post(clients, f"{questions}/why/move", {"direction": "up"}, status=400)
    assert "Show-if must refer to an earlier question; uses_bus is not one." in \
        moved.data.decode()
    post(clients, f"{questions}/uses_bus/remove", {}, status=400)
    same_code = post(clients, f"{questions}/new", {"code": "why", "type": "yes_no",
                                                   "text": "Again?"}, status=400).data.decode()
    assert '<a href="#code">Question code: Question codes must be unique within a survey.</a>' \
        in same_code
    welsh_options = post(clients, f"{questions}/new", {
        "code": "route", "type": "single_choice", "text": "Which route?",
        "options": "Route 1\nRoute 2", "translations-cy-text": "Pa lwybr?",
        "translations-cy-options": "Llwybr 1"}, status=400).data.decode()
    assert 'href="#translations-cy-options"' in welsh_options
    assert "Translate every option, in the same order." in welsh_options
    post(clients, f"{build}/fieldwork", {"sample_size": "abc", "channels": ["web"]},
         status=400)
    post(clients, f"{build}/languages", {"languages": ["cy"]}, status=400)

    survey = api_survey(clients, keys, survey_id)
    assert survey["title"] == "Buses in Riverside" and survey["decision"] is None
    assert survey["sponsors"] == [{"agency": "council", "cost_share": "100.00"}]
    assert survey["invitations"] == [] and survey["sample_size"] == 100
    assert survey["languages"] == ["en"]
    assert [q["code"] for q in survey["questions"]] == ["uses_bus", "why"]


def test_a_co_sponsors_officer_cannot_edit_and_another_agencys_sees_no_survey(
        apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    survey_id = new_draft(clients)
    post(clients, f"/surveys/{survey_id}/build/sponsors",
         {"share-council": "50", "share-police": "50"})
    [invitation] = api_survey(clients, keys, survey_id)["invitations"]
    accepted = clients["surveys"].post(
        f"/api/v1/surveys/invitations/{invitation['id']}/answer",
        headers=bearer(keys["police"]["officer"]), json={"accept": True})
    assert accepted.status_code == 200

    add_staff(apps, email="officer@police.example", agency="police", role="officer")
    sign_in(apps, clients, "officer@police.example")
    refused = clients["surveys"].get(f"/surveys/{survey_id}/build/details")
    assert refused.status_code == 403 and b"Only the lead agency" in refused.data
    assert clients["surveys"].post(f"/surveys/{survey_id}/build/details",
                                   data={"title": "Taken over"}).status_code == 403
    assert clients["surveys"].post(f"/surveys/{survey_id}/build/questions/new", data={
        "code": "q", "type": "yes_no", "text": "Taken over?"}).status_code == 403
    # The list shows the co-sponsored survey, without an edit link.
    listed = clients["surveys"].get("/surveys").data.decode()
    assert "Buses in Riverside" in listed and f"/surveys/{survey_id}/build" not in listed
    # So does the API.
    assert clients["surveys"].patch(f"/api/v1/surveys/{survey_id}", json={"title": "Taken"},
                                    headers=bearer(keys["police"]["officer"])).status_code == 403

    add_staff(apps, email="officer@health.example", agency="health", role="officer")
    sign_in(apps, clients, "officer@health.example")
    for path in ("/build", "/build/details", "/build/questions"):
        assert clients["surveys"].get(f"/surveys/{survey_id}{path}").status_code == 404
    assert clients["surveys"].post(f"/surveys/{survey_id}/build/details",
                                   data={"title": "Taken over"}).status_code == 404
    assert clients["surveys"].patch(f"/api/v1/surveys/{survey_id}", json={"title": "Taken"},
                                    headers=bearer(keys["health"]["officer"])).status_code == 404

    add_staff(apps, email="analyst@council.example", agency="council", role="analyst")
    sign_in(apps, clients, "analyst@council.example")
    assert clients["surveys"].get(f"/surveys/{survey_id}/build").status_code == 403
    assert b"Create a survey" not in clients["surveys"].get("/surveys").data
    assert api_survey(clients, keys, survey_id)["title"] == "Buses in Riverside"


def test_a_copy_is_a_new_draft_with_the_same_details_and_questions(apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    source_id = build_through_pages(clients, keys)
    answer = post(clients, "/surveys/new", {"start": "copy", "copy_of": str(source_id)})
    copy_id = int(re.search(r"/surveys/(\d+)/build$", answer.headers["Location"]).group(1))
    source, copy = api_survey(clients, keys, source_id), api_survey(clients, keys, copy_id)
    assert copy_id != source_id and copy["status"] == "draft"
    assert copy["title"] == "Copy of Buses in Riverside"
    assert copy["sponsors"] == [{"agency": "council", "cost_share": "100.00"}]
    assert copy["invitations"] == []
    for same in ("purpose", "scope", "decision", "areas", "topics", "fieldwork", "quotas",
                 "channels", "reminder_days", "languages", "sample_size", "target_completes"):
        assert copy[same] == source[same], same
    assert copy["questions"] == source["questions"]
    # A survey of another agency cannot be copied: it does not exist for this one.
    add_staff(apps, email="officer@health.example", agency="health", role="officer")
    sign_in(apps, clients, "officer@health.example")
    post(clients, "/surveys/new", {"start": "copy", "copy_of": str(source_id)}, status=404)


def test_the_list_filters_by_status_and_searches_titles_with_sponsors_named(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    launch(apps, clients, pump, keys=keys, title="Feeling safe at night")
    clients["surveys"].post("/api/v1/surveys", headers=bearer(keys["police"]["officer"]),
                            json=survey_payload(title="Police priorities",
                                                sponsors=(("police", "100"),)))
    joint = clients["surveys"].post(
        "/api/v1/surveys", headers=bearer(keys["police"]["officer"]),
        json=survey_payload(title="Safer streets together",
                            sponsors=(("police", "60"), ("council", "40")))).json
    clients["surveys"].post(f"/api/v1/surveys/invitations/{joint['invitations'][0]['id']}/answer",
                            headers=bearer(keys["council"]["officer"]), json={"accept": True})
    add_staff(apps, email="officer@council.example", agency="council", role="officer")
    sign_in(apps, clients, "officer@council.example")
    new_draft(clients, "Bus routes")

    def titles(query=""):
        page = clients["surveys"].get("/surveys" + query).data.decode()
        return re.findall(r'<a class="govuk-link" href="/surveys/\d+">([^<]+)</a>', page), page

    everything, page = titles()
    assert everything == ["Bus routes", "Safer streets together", "Feeling safe at night"]
    assert "Riverside Council, Riverside Police (lead)" in page and "Create a survey" in page
    assert titles("?status=draft")[0] == ["Bus routes", "Safer streets together"]
    assert titles("?status=fieldwork")[0] == ["Feeling safe at night"]
    assert titles("?status=fieldwork&status=draft")[0] == everything
    assert titles("?search=SAFE")[0] == ["Safer streets together", "Feeling safe at night"]
    assert titles("?search=safe&status=draft")[0] == ["Safer streets together"]
    nothing, page = titles("?search=100%25")
    assert nothing == [] and "No surveys match" in page


WELSH_TITLE = "Teimlo'n ddiogel yng nghanol y dref"
WELSH_SUMMARY = "Helpwch y bartneriaeth i benderfynu sut i wneud canol y dref yn fwy diogel."


def test_welsh_title_and_summary_are_set_on_the_languages_page_and_a_welsh_member_reads_them(
        apps, clients, pump, smtp_server):
    keys = officer_signed_in(apps, clients, pump)
    for index, language in enumerate(("en", "cy")):
        assert clients["panel"].post("/api/v1/members", headers=bearer(
            keys["council"]["panel_manager"]), json={**member_payload(index),
                                                     "language": language}).status_code == 201
    officer = bearer(keys["council"]["officer"])
    survey_id = clients["surveys"].post("/api/v1/surveys", headers=officer, json=survey_payload(
        sample_size=2, languages=["en", "cy"])).json["id"]
    languages = f"/surveys/{survey_id}/build/languages"

    # Offered in Welsh without a Welsh title, it cannot launch; the checklist says where to
    # give it, and the API refuses the launch for the same reasons.
    checklist = clients["surveys"].get(f"/surveys/{survey_id}/launch").data.decode()
    assert "Give the survey&#39;s title in Welsh." in checklist
    assert "Give the survey&#39;s summary in Welsh." in checklist
    assert f'href="{languages}#translations-cy-title"' in checklist
    refused = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch", headers=officer)
    assert refused.status_code == 422 and refused.json["errors"]["json"]["languages"] == [
        "Give the survey's title in Welsh.", "Give the survey's summary in Welsh."]

    page = clients["surveys"].get(languages).data.decode()
    assert "In English: Feeling safe in the town centre" in page
    summary_only = post(clients, languages, {"languages": ["en", "cy"],
                                             "translations-cy-summary": WELSH_SUMMARY},
                        status=400).data.decode()
    assert '<a href="#translations-cy-title">Title in Welsh: Missing data for required ' \
           'field.</a>' in summary_only
    assert f">{WELSH_SUMMARY}</textarea>" in summary_only.replace("&#39;", "'")
    api = clients["surveys"].patch(f"/api/v1/surveys/{survey_id}", headers=officer,
                                   json={"translations": {"cy": {"summary": WELSH_SUMMARY}}})
    assert api.json["errors"]["json"]["translations"]["cy"]["value"]["title"] == [
        "Missing data for required field."]
    post(clients, languages, {"languages": ["en", "cy"], "translations-cy-title": WELSH_TITLE,
                              "translations-cy-summary": WELSH_SUMMARY})
    assert api_survey(clients, keys, survey_id)["translations"] == {
        "cy": {"title": WELSH_TITLE, "summary": WELSH_SUMMARY}}
    assert f'value="{WELSH_TITLE}"'.replace("'", "&#39;") in \
        clients["surveys"].get(languages).data.decode()

    assert post(clients, f"/surveys/{survey_id}/launch", {}).status_code == 303
    pump()
    # Each member's invitation names the survey in their own language.
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert subjects["person0@example.org"] == "Have your say: Feeling safe in the town centre"
    assert subjects["person1@example.org"] == f"Dweud eich dweud: {WELSH_TITLE}"
    welsh = next(i for i in invitations(apps["surveys"], survey_id) if i.language == "cy")
    respond = clients["surveys"].get(f"/r/{welsh.token}").data.decode().replace("&#39;", "'")
    assert f'<h1 class="govuk-heading-l" lang="cy">{WELSH_TITLE}</h1>' in respond
    assert WELSH_SUMMARY in respond and f"<title>{WELSH_TITLE}" in respond
    assert "Feeling safe in the town centre" not in respond
    clients["surveys"].post(f"/r/{welsh.token}", data={"feel_safe": "4",
                                                       "priority": "Street lighting"})
    thanks = clients["surveys"].get(f"/r/{welsh.token}/thanks").data.decode()
    assert f'lang="cy">{WELSH_TITLE}</div>' in thanks.replace("&#39;", "'")


def words(page) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page.data.decode()).split()).replace("&#39;", "'")


def test_show_if_reads_as_answer_labels_and_removing_asks_first(apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    survey_id = new_draft(clients)
    questions = f"/surveys/{survey_id}/build/questions"
    post(clients, f"{questions}/new", {"code": "uses_bus", "type": "yes_no",
                                       "text": "Do you use the bus?"})
    post(clients, f"{questions}/new", {"code": "route", "type": "single_choice",
                                       "text": "Which route do you use most?",
                                       "options": "Route 1\nRoute 2", "show_if": ["uses_bus:yes"]})
    post(clients, f"{questions}/new", {"code": "why", "type": "free_text", "text": "Why that one?",
                                       "show_if": ["route:Route 1", "route:Route 2"]})
    listed = words(clients["surveys"].get(questions))
    assert "Shown only if “Do you use the bus?” is answered “Yes”" in listed
    assert "Shown only if “Which route do you use most?” is answered “Route 1” or “Route 2”" \
        in listed
    assert "answered yes" not in listed

    # Removing is a link to a confirmation page, never a button that removes at once.
    page = clients["surveys"].get(questions).data.decode()
    assert f'href="{questions}/why/remove"' in page
    assert f'action="{questions}/why/remove"' not in page
    confirm = clients["surveys"].get(f"{questions}/why/remove")
    assert confirm.status_code == 200
    assert "Are you sure you want to remove this question? Why that one?" in words(confirm)
    assert [q["code"] for q in api_survey(clients, keys, survey_id)["questions"]] == [
        "uses_bus", "route", "why"]
    # A question whose answers show another cannot go, and the page says which to change.
    blocked = words(clients["surveys"].get(f"{questions}/uses_bus/remove"))
    assert "It cannot be removed yet: its answers decide who is asked " \
           "“Which route do you use most?”" in blocked
    assert "Remove the question" not in blocked and "Edit “Which route do you use most?”" \
        in blocked
    assert clients["surveys"].get(f"{questions}/nothing/remove").status_code == 404

    post(clients, f"{questions}/why/remove", {})
    assert [q["code"] for q in api_survey(clients, keys, survey_id)["questions"]] == [
        "uses_bus", "route"]
    assert "Why that one?" not in words(clients["surveys"].get(questions))

    add_staff(apps, email="officer@health.example", agency="health", role="officer")
    sign_in(apps, clients, "officer@health.example")
    assert clients["surveys"].get(f"{questions}/route/remove").status_code == 404
