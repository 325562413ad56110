"""Every status a thing of civicpanel moves through, and the moves each allows, in one place.

Statuses are `str` enums (as Netflix/dispatch keeps them beside its models), so they are stored
and sent as the plain strings they always were. `MOVES` answers "from this status, where may
it go?"; `may_move` is the one test of a move.
"""

from __future__ import annotations

from enum import StrEnum


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    FIELDWORK = "fieldwork"
    CLOSED = "closed"


class DeliveryStatus(StrEnum):
    """One message to one member, in panel's delivery log."""

    PENDING = "pending"  # recorded, not yet handed to SMTP or the gateway
    SENDING = "sending"  # claimed by a worker: it may be on its way
    SENT = "sent"  # the server accepted it
    DELIVERED = "delivered"  # the gateway's callback says it arrived
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # refused for good
    CANCELED = "canceled"
    NO_CONSENT = "no_consent"  # never sent: the member did not agree to this kind of message
    OPTED_OUT = "opted_out"  # never sent: the member stopped every message
    # Its fate is unknown (no answer, a worker stopped mid-send): never sent again, since it
    # may have gone; a later callback may still move it on.
    UNCONFIRMED = "unconfirmed"


class InvitationStatus(StrEnum):
    """What surveys knows of an invitation's message, from panel's delivery reports."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    UNCONFIRMED = "unconfirmed"


class ReportStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CommitmentStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


class JoinRequestStatus(StrEnum):
    """An agency's request to co-sponsor (the lead approves or refuses), or the lead's
    invitation to an agency (it accepts or declines)."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


D = DeliveryStatus
_DELIVERY_FINAL = {D.DELIVERED, D.UNDELIVERED, D.FAILED, D.CANCELED, D.NO_CONSENT, D.OPTED_OUT}
_AFTER_SENT = {D.DELIVERED, D.UNDELIVERED, D.FAILED, D.CANCELED}
I = InvitationStatus  # noqa: E741 - read as "invitation"

MOVES: dict[type[StrEnum], dict[StrEnum, frozenset[StrEnum]]] = {
    SurveyStatus: {
        SurveyStatus.DRAFT: frozenset({SurveyStatus.FIELDWORK}),
        SurveyStatus.FIELDWORK: frozenset({SurveyStatus.CLOSED}),
        SurveyStatus.CLOSED: frozenset(),
    },
    DeliveryStatus: {
        D.PENDING: frozenset({D.SENDING, D.NO_CONSENT, D.OPTED_OUT, D.FAILED}),
        # A claimed message: sent, refused, withdrawn by a STOP, unknown, or certainly not
        # sent ("not now" from the server) and so pending again.
        D.SENDING: frozenset({D.SENT, D.FAILED, D.OPTED_OUT, D.UNCONFIRMED, D.PENDING}),
        D.SENT: frozenset(_AFTER_SENT),
        D.UNCONFIRMED: frozenset(_AFTER_SENT | {D.SENT}),
        **{final: frozenset() for final in _DELIVERY_FINAL},
    },
    InvitationStatus: {
        I.QUEUED: frozenset(set(I) - {I.QUEUED}),
        I.SENT: frozenset({I.DELIVERED, I.UNDELIVERED, I.FAILED}),
        I.UNCONFIRMED: frozenset({I.SENT, I.DELIVERED, I.UNDELIVERED, I.FAILED}),
        **{final: frozenset() for final in (I.DELIVERED, I.UNDELIVERED, I.FAILED,
                                            I.NO_CONSENT, I.OPTED_OUT)},
    },
    ReportStatus: {
        ReportStatus.DRAFT: frozenset({ReportStatus.PUBLISHED}),
        ReportStatus.PUBLISHED: frozenset(),
    },
    CommitmentStatus: {
        CommitmentStatus.PLANNED: frozenset({CommitmentStatus.IN_PROGRESS, CommitmentStatus.DONE,
                                             CommitmentStatus.DROPPED}),
        CommitmentStatus.IN_PROGRESS: frozenset({CommitmentStatus.DONE,
                                                 CommitmentStatus.DROPPED}),
        CommitmentStatus.DONE: frozenset(),
        CommitmentStatus.DROPPED: frozenset(),
    },
    JoinRequestStatus: {
        JoinRequestStatus.PENDING: frozenset(set(JoinRequestStatus) - {JoinRequestStatus.PENDING}),
        **{final: frozenset() for final in set(JoinRequestStatus) - {JoinRequestStatus.PENDING}},
    },
    ExportStatus: {
        ExportStatus.QUEUED: frozenset({ExportStatus.RUNNING, ExportStatus.FAILED}),
        ExportStatus.RUNNING: frozenset({ExportStatus.DONE, ExportStatus.FAILED}),
        ExportStatus.DONE: frozenset(),
        ExportStatus.FAILED: frozenset(),
    },
}


def may_move(current: StrEnum | str, new: StrEnum | str, kind: type[StrEnum]) -> bool:
    """Whether a thing of this kind may go from `current` to `new` (staying put is no move)."""
    return kind(new) in MOVES[kind][kind(current)]


def is_final(status: StrEnum | str, kind: type[StrEnum]) -> bool:
    return not MOVES[kind][kind(status)]
