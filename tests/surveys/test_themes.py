"""Themes of free-text answers: found in the worker with progress, recovering the groups a
labelled set of generated answers was written on (adjusted Rand index), in English and
Welsh; steered by officers and analysts, and the edits survive a re-run."""

from __future__ import annotations

import pytest
from sklearn.metrics import adjusted_rand_score

from services.surveys.theme_rules import auto_label
from services.surveys.theming import STOP_WORDS, find_themes
from tests.scenario import bearer
from tests.surveys.generated_answers import answers
from tests.surveys.steps import drawn, invitations, launch, member


def rand_index(found, labels) -> float:
    predicted = [-1] * len(labels)
    for index, theme in enumerate(found.themes):
        for member_index in theme.members:
            predicted[member_index] = index
    return adjusted_rand_score(labels, predicted)


@pytest.mark.parametrize(("count", "seed"), [(300, 1), (600, 8), (2000, 3)])
def test_themes_recover_the_groups_answers_were_written_on(count, seed):
    texts, languages, labels = answers(count, seed=seed)
    found = find_themes(texts, languages)
    ari = rand_index(found, labels)
    print(f"adjusted Rand index, {count} English answers: {ari:.3f}")
    assert ari >= 0.6
    assert len(found.themes) == 5
    labels_found = {auto_label(t.words) for t in found.themes}
    assert any("light" in label.lower() for label in labels_found), labels_found
    assert any("bus" in label.lower() for label in labels_found), labels_found


def test_welsh_answers_get_themes_of_welsh_words_without_english_stop_words_applied():
    texts, languages, labels = answers(600, seed=4, welsh_every=1)
    found = find_themes(texts, languages)
    ari = rand_index(found, labels)
    print(f"adjusted Rand index, 600 Welsh answers: {ari:.3f}")
    assert ari >= 0.4
    words = {w for t in found.themes for w in t.words for w in w.split()}
    assert not words & STOP_WORDS["cy"]  # "yn", "mae", "y" never name a theme
    assert {"golau", "bws", "heddlu"} & words  # Welsh words do: lighting, bus, police
    assert all(t.language == "cy" for t in found.themes)


def test_english_and_welsh_answers_together_are_themed_each_in_their_own_words():
    texts, languages, labels = answers(1200, seed=6, welsh_every=6)
    found = find_themes(texts, languages)
    ari = rand_index(found, labels)
    print(f"adjusted Rand index, 1,200 answers, one in six Welsh: {ari:.3f}")
    assert ari >= 0.6
    assert {t.language for t in found.themes} == {"en", "cy"}


# -- in the worker, through the API -------------------------------------------------------


def answered_survey(apps, clients, pump, count: int = 100):
    survey_id, officer, keys = launch(apps, clients, pump, sample_size=count)
    drawn(pump, survey_id, [member() for _ in range(count)])
    texts, _, labels = answers(count, seed=2)
    for index, (invitation, text) in enumerate(zip(invitations(apps["surveys"], survey_id),
                                                   texts, strict=True)):
        # Each citizen from an address of their own: the page allows 60 posts a minute each.
        assert clients["surveys"].post(f"/r/{invitation.token}", data={
            "feel_safe": "3", "priority": "Street lighting", "comments": text},
            environ_base={"REMOTE_ADDR": f"192.0.2.{index}"}).status_code == 303
    return survey_id, keys


def themes_of(clients, survey_id: int, key: str) -> dict:
    answer = clients["surveys"].get(f"/api/v1/surveys/{survey_id}/questions/comments/themes",
                                    headers=bearer(key))
    assert answer.status_code == 200, answer.json
    return answer.json


def run_themes(clients, pump, survey_id: int, key: str) -> dict:
    started = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/themes", headers=bearer(key))
    assert started.status_code == 202, started.json
    assert [r["status"] for r in started.json["runs"]] == ["queued"]
    pump()
    return themes_of(clients, survey_id, key)


def test_the_worker_finds_themes_with_progress_and_counts_and_quotes(apps, clients, pump):
    survey_id, keys = answered_survey(apps, clients, pump)
    found = run_themes(clients, pump, survey_id, keys["council"]["analyst"])
    assert found["run"]["status"] == "done" and found["run"]["progress"] == 100
    assert found["run"]["answers"] == 100
    themes = found["themes"]
    assert 4 <= len(themes) <= 6 and sum(t["count"] for t in themes) == 100
    assert all(abs(t["share"] - t["count"] / 100) < 1e-9 for t in themes), themes
    assert all(1 <= len(t["quotes"]) <= 5 for t in themes), themes
    assert {"street lights", "lighting"} & {w for t in themes for w in t["words"]}
    # The themes the worker stored recover the groups the answers were written on.
    texts, _, labels = answers(100, seed=2)
    written_on = dict(zip(texts, labels, strict=True))
    truth, predicted = [], []
    for index, theme in enumerate(themes):
        listed = clients["surveys"].get(
            f"/api/v1/surveys/{survey_id}/questions/comments/themes/{theme['id']}/answers",
            headers=bearer(keys["council"]["analyst"])).json["answers"]
        truth += [written_on[a["text"]] for a in listed]
        predicted += [index] * len(listed)
    ari = adjusted_rand_score(truth, predicted)
    print(f"adjusted Rand index, 100 answers themed in the worker: {ari:.3f}")
    assert ari >= 0.6


def test_an_agency_not_sponsoring_and_a_role_that_does_not_steer_are_refused(
        apps, clients, pump):
    survey_id, keys = answered_survey(apps, clients, pump, count=10)
    path = f"/api/v1/surveys/{survey_id}/questions/comments/themes"
    assert clients["surveys"].get(path, headers=bearer(keys["police"]["analyst"])
                                  ).status_code == 404
    assert clients["surveys"].get(path, headers=bearer(keys["council"]["panel_manager"])
                                  ).status_code == 403
    assert clients["surveys"].get(f"/api/v1/surveys/{survey_id}/questions/feel_safe/themes",
                                  headers=bearer(keys["council"]["analyst"])).status_code == 404


def edit(clients, survey_id: int, key: str, **body) -> dict:
    answer = clients["surveys"].post(
        f"/api/v1/surveys/{survey_id}/questions/comments/themes/edits", json=body,
        headers=bearer(key))
    assert answer.status_code == 200, answer.json
    return answer.json


def by_label(found: dict) -> dict[str, dict]:
    return {t["label"]: t for t in found["themes"]}


def test_edits_steer_the_themes_and_survive_a_rerun(apps, clients, pump):
    survey_id, keys = answered_survey(apps, clients, pump)
    analyst, officer = keys["council"]["analyst"], keys["council"]["officer"]
    found = run_themes(clients, pump, survey_id, analyst)
    lights = next(t for t in found["themes"] if "light" in t["label"].lower())
    buses = next(t for t in found["themes"] if "bus" in t["label"].lower())
    litter = next(t for t in found["themes"] if t["id"] not in (lights["id"], buses["id"]))
    found = edit(clients, survey_id, analyst, kind="rename", theme_ids=[lights["id"]],
                 label="Street lighting")
    assert by_label(found)["Street lighting"]["count"] == lights["count"]
    # A theme keeps its id while it keeps its answers: the ids read before still work.
    assert {t["id"] for t in found["themes"]} >= {lights["id"], buses["id"], litter["id"]}
    # An officer merges buses into another theme, an analyst moves an answer and marks a
    # quote not to be used.
    found = edit(clients, survey_id, officer, kind="merge",
                 theme_ids=[buses["id"], litter["id"]], label="Buses and litter")
    themes = len(found["themes"])
    assert by_label(found)["Buses and litter"]["count"] == buses["count"] + litter["count"]
    lit = by_label(found)["Street lighting"]
    moved = lit["quotes"][0]
    merged_id = by_label(found)["Buses and litter"]["id"]
    found = edit(clients, survey_id, analyst, kind="move", theme_ids=[merged_id],
                 answer_id=moved["id"])
    assert by_label(found)["Street lighting"]["count"] == lights["count"] - 1
    hidden = by_label(found)["Street lighting"]["quotes"][0]
    found = edit(clients, survey_id, analyst, kind="no_quote", answer_id=hidden["id"])
    assert hidden["id"] not in [q["id"] for q in by_label(found)["Street lighting"]["quotes"]]
    split = next(t for t in found["themes"] if t["label"] not in (
        "Street lighting", "Buses and litter"))
    found = edit(clients, survey_id, analyst, kind="split", theme_ids=[split["id"]])
    assert len(found["themes"]) == themes + 1
    before = sorted((t["label"], t["count"]) for t in found["themes"])

    again = run_themes(clients, pump, survey_id, officer)
    assert sorted((t["label"], t["count"]) for t in again["themes"]) == before
    lit = by_label(again)["Street lighting"]
    assert hidden["id"] not in [q["id"] for q in lit["quotes"]]
    merged = clients["surveys"].get(
        f"/api/v1/surveys/{survey_id}/questions/comments/themes/"
        f"{by_label(again)['Buses and litter']['id']}/answers", headers=bearer(analyst))
    assert moved["id"] in [a["id"] for a in merged.json["answers"]]


def test_a_bad_edit_names_the_field_and_why(apps, clients, pump):
    survey_id, keys = answered_survey(apps, clients, pump, count=30)
    analyst = keys["council"]["analyst"]
    found = run_themes(clients, pump, survey_id, analyst)
    path = f"/api/v1/surveys/{survey_id}/questions/comments/themes/edits"
    one = found["themes"][0]["id"]
    refused = clients["surveys"].post(path, headers=bearer(analyst),
                                      json={"kind": "merge", "theme_ids": [one]})
    assert refused.status_code == 422 and "theme_ids" in refused.json["errors"]["json"]
    refused = clients["surveys"].post(path, headers=bearer(analyst),
                                      json={"kind": "rename", "theme_ids": [one], "label": " "})
    assert refused.status_code == 422 and "label" in refused.json["errors"]["json"]
    refused = clients["surveys"].post(path, headers=bearer(analyst),
                                      json={"kind": "rename", "theme_ids": [999999],
                                            "label": "x"})
    assert refused.status_code == 404
