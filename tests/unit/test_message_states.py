"""The message state table: which moves exist, what each records, and which are refused."""

from __future__ import annotations

import pytest

from hcs.errors import Conflict, InvalidTransition
from hcs.messages.status import (
    REPORTED,
    STARTS,
    TRANSITIONS,
    UNSENT,
    MessageStatus,
    Move,
    is_allowed,
    sources_of,
)

S = MessageStatus


def test_the_statuses_keep_the_strings_the_database_and_the_api_hold() -> None:
    assert [s.value for s in MessageStatus] == [
        "accepted",
        "awaiting_signoff",
        "queued",
        "sending",
        "sent",
        "delivered",
        "failed",
        "rejected",
        "suppressed",
        "held",
        "cancelled",
        "unknown",
    ]
    assert MessageStatus.SENT == "sent" and f"{MessageStatus.HELD}" == "held"


def test_messages_start_accepted_or_suppressed_and_only_unsent_ones_are_suppressed_later() -> None:
    assert STARTS == {S.ACCEPTED, S.SUPPRESSED}
    into = {move: row for move, row in TRANSITIONS.items() if row.target in STARTS}
    assert list(into) == [Move.SUPPRESS]
    assert into[Move.SUPPRESS].sources == UNSENT


@pytest.mark.parametrize("final", [S.REJECTED, S.SUPPRESSED])
def test_a_message_that_ended_moves_no_further(final: MessageStatus) -> None:
    assert not any(final in row.sources for row in TRANSITIONS.values())


def test_a_failed_message_moves_only_when_an_operator_queues_it_again() -> None:
    assert [m for m, row in TRANSITIONS.items() if S.FAILED in row.sources] == [Move.REQUEUE]


def test_provider_reports_move_by_their_kind_and_others_move_nothing() -> None:
    assert REPORTED == {
        "delivered": Move.REPORT_DELIVERED,
        "read": Move.REPORT_READ,
        "bounced": Move.REPORT_BOUNCED,
        "failed": Move.REPORT_FAILED,
    }
    assert UNSENT == {S.ACCEPTED, S.QUEUED, S.SENDING}


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.SENT, S.QUEUED),
        (S.SENT, S.SENDING),
        (S.DELIVERED, S.SENT),
        (S.FAILED, S.SENDING),
        (S.REJECTED, S.QUEUED),
        (S.SUPPRESSED, S.SENDING),
        (S.HELD, S.SENDING),
        (S.AWAITING_SIGNOFF, S.SENDING),
        (S.ACCEPTED, S.SENT),
    ],
)
def test_moves_the_table_does_not_hold_are_not_allowed(
    source: MessageStatus, target: MessageStatus
) -> None:
    assert not is_allowed(source, target)


def test_asking_a_move_from_a_status_it_does_not_leave_raises_a_conflict() -> None:
    with pytest.raises(InvalidTransition, match="from sent to queued") as raised:
        sources_of(Move.RETRY, [S.SENT])
    assert isinstance(raised.value, Conflict)  # the API answers 409
    with pytest.raises(InvalidTransition, match="from delivered, failed to sending"):
        sources_of(Move.TAKE, [S.QUEUED, S.FAILED, S.DELIVERED])
    with pytest.raises(InvalidTransition):
        sources_of(Move.TAKE, [])


def test_a_move_goes_from_the_statuses_asked_for_or_from_all_of_its_row() -> None:
    assert sources_of(Move.FAIL, [S.SENDING]) == {S.SENDING}
    assert sources_of(Move.FAIL) == {S.ACCEPTED, S.QUEUED, S.SENDING}


def test_a_send_of_unknown_outcome_is_never_queued_again_without_a_mark() -> None:
    # Only from `sending`; out only to `sent` (evidence, a person), `failed` (a person), or
    # back to `queued` by the one move that records `possible_duplicate`.
    assert [m for m, row in TRANSITIONS.items() if row.target is S.UNKNOWN] == [Move.LOSE_TRACK]
    assert Move.LOSE_TRACK.value.sources == {S.SENDING}
    leaving = {m: row.target for m, row in TRANSITIONS.items() if S.UNKNOWN in row.sources}
    assert leaving == {
        Move.RECONCILE: S.SENT,
        Move.RESEND: S.QUEUED,
        Move.RESOLVE_SENT: S.SENT,
        Move.RESOLVE_FAILED: S.FAILED,
    }
    assert Move.RESEND.value.event == "possible_duplicate"


def test_a_caller_cancels_only_what_has_not_started_to_go_out() -> None:
    assert Move.CANCEL.value.sources == {S.ACCEPTED, S.QUEUED, S.AWAITING_SIGNOFF, S.HELD}
    assert not is_allowed(S.SENDING, S.CANCELLED) and not is_allowed(S.SENT, S.CANCELLED)
