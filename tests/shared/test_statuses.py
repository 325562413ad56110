"""One place says which statuses exist and where each may move."""

from __future__ import annotations

import pytest

from shared.statuses import (
    MOVES,
    CommitmentStatus,
    DeliveryStatus,
    ExportStatus,
    SurveyStatus,
    is_final,
    may_move,
)


@pytest.mark.parametrize("kind", list(MOVES))
def test_every_status_of_every_kind_says_where_it_may_go(kind):
    assert set(MOVES[kind]) == set(kind), f"{kind.__name__} leaves a status without its moves"
    for targets in MOVES[kind].values():
        assert targets <= set(kind)


def test_a_survey_only_moves_forward():
    assert may_move("draft", "fieldwork", SurveyStatus)
    assert may_move("fieldwork", "closed", SurveyStatus)
    assert not may_move("closed", "fieldwork", SurveyStatus)
    assert not may_move("draft", "closed", SurveyStatus)


def test_a_message_that_may_have_gone_is_never_pending_again():
    """Exactly-once sending: only a claim the server certainly refused goes back to pending."""
    assert may_move("sending", "pending", DeliveryStatus)
    for maybe_sent in ("sent", "unconfirmed", "delivered"):
        assert not may_move(maybe_sent, "pending", DeliveryStatus)
        assert not may_move(maybe_sent, "sending", DeliveryStatus)
    assert may_move("unconfirmed", "delivered", DeliveryStatus), "a late callback still counts"
    assert is_final("opted_out", DeliveryStatus) and is_final("delivered", DeliveryStatus)


def test_done_and_dropped_commitments_and_finished_exports_are_final():
    assert is_final("done", CommitmentStatus) and is_final("dropped", CommitmentStatus)
    assert may_move("planned", "done", CommitmentStatus)
    assert is_final("done", ExportStatus) and not may_move("done", "running", ExportStatus)


def test_statuses_are_the_plain_strings_stored_and_sent():
    assert SurveyStatus.FIELDWORK == "fieldwork"
    assert DeliveryStatus("unconfirmed") is DeliveryStatus.UNCONFIRMED
