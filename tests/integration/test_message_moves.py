"""Every move of the message state table, made in the database; illegal moves refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.errors import InvalidTransition
from hcs.messages.models import Message, MessageEvent
from hcs.messages.moves import move
from hcs.messages.status import TRANSITIONS, MessageStatus, Move
from tests.support.factories import make_draft, make_template

S = MessageStatus

# Written out by hand, so that the table cannot lose a move without a test saying so:
# (move, from, to, the event `move` records; a report's event is recorded by the webhook).
LISTED = [
    (Move.TAKE, S.ACCEPTED, S.SENDING, None),
    (Move.TAKE, S.QUEUED, S.SENDING, None),
    (Move.SEND, S.SENDING, S.SENT, "sent"),
    (Move.RETRY, S.SENDING, S.QUEUED, "retry"),
    (Move.FAIL, S.ACCEPTED, S.FAILED, "failed"),
    (Move.FAIL, S.QUEUED, S.FAILED, "failed"),
    (Move.FAIL, S.SENDING, S.FAILED, "failed"),
    (Move.SUPPRESS, S.ACCEPTED, S.SUPPRESSED, "suppressed"),
    (Move.SUPPRESS, S.QUEUED, S.SUPPRESSED, "suppressed"),
    (Move.SUPPRESS, S.SENDING, S.SUPPRESSED, "suppressed"),
    (Move.HOLD, S.ACCEPTED, S.HELD, "held"),
    (Move.HOLD, S.QUEUED, S.HELD, "held"),
    (Move.HOLD, S.SENDING, S.HELD, "held"),
    (Move.HOLD, S.AWAITING_SIGNOFF, S.HELD, "held"),
    (Move.RELEASE, S.HELD, S.QUEUED, "released"),
    (Move.RELEASE_TO_SIGNOFF, S.HELD, S.AWAITING_SIGNOFF, "released"),
    (Move.AWAIT_SIGNOFF, S.ACCEPTED, S.AWAITING_SIGNOFF, "awaiting_signoff"),
    (Move.AWAIT_SIGNOFF, S.QUEUED, S.AWAITING_SIGNOFF, "awaiting_signoff"),
    (Move.SIGN_OFF, S.AWAITING_SIGNOFF, S.QUEUED, "signed_off"),
    (Move.REJECT_SIGNOFF, S.AWAITING_SIGNOFF, S.REJECTED, "signoff_rejected"),
    (Move.REJECT_SIGNOFF, S.HELD, S.REJECTED, "signoff_rejected"),
    (Move.EXPIRE_SIGNOFF, S.AWAITING_SIGNOFF, S.REJECTED, "signoff_expired"),
    (Move.EXPIRE_SIGNOFF, S.HELD, S.REJECTED, "signoff_expired"),
    (Move.REQUEUE, S.FAILED, S.QUEUED, "requeued"),
    (Move.CANCEL, S.ACCEPTED, S.CANCELLED, "cancelled"),
    (Move.CANCEL, S.QUEUED, S.CANCELLED, "cancelled"),
    (Move.CANCEL, S.AWAITING_SIGNOFF, S.CANCELLED, "cancelled"),
    (Move.CANCEL, S.HELD, S.CANCELLED, "cancelled"),
    (Move.REPORT_DELIVERED, S.SENT, S.DELIVERED, None),
    (Move.REPORT_READ, S.SENT, S.DELIVERED, None),
    (Move.REPORT_BOUNCED, S.SENT, S.FAILED, None),
    (Move.REPORT_BOUNCED, S.DELIVERED, S.FAILED, None),
    (Move.REPORT_FAILED, S.SENT, S.FAILED, None),
    (Move.REPORT_FAILED, S.DELIVERED, S.FAILED, None),
    (Move.LOSE_TRACK, S.SENDING, S.UNKNOWN, "unknown"),
    (Move.PUT_BACK, S.SENDING, S.QUEUED, None),
    (Move.RECONCILE, S.UNKNOWN, S.SENT, "reconciled"),
    (Move.RESEND, S.UNKNOWN, S.QUEUED, "possible_duplicate"),
    (Move.RESOLVE_SENT, S.UNKNOWN, S.SENT, "resolved_sent"),
    (Move.RESOLVE_FAILED, S.UNKNOWN, S.FAILED, "resolved_failed"),
]

TABLE = [
    (which, source, row.target, None if row.reported else row.event)
    for which, row in TRANSITIONS.items()
    for source in sorted(row.sources)
]


def _param(kind: str, which: Move, source: S, target: S, event: str | None) -> Any:
    return pytest.param(which, source, target, event, id=f"{kind}-{which}-from-{source}")


EVERY_MOVE = [_param("listed", *m) for m in LISTED] + [_param("table", *m) for m in TABLE]


def make_message(session: Session, status: MessageStatus, n: int = 1) -> Message:
    """A message in `status`, of a fresh draft (the template is made for the first one)."""
    version = session.scalars(select(Message.version_id)).first()
    if version is None:
        make_template(session)
        version = make_draft(session).id
    message = Message(
        id=f"msg_{n:04d}",
        template_key="order-confirmation",
        version_id=version,
        version_number=1,
        channel="email",
        category="transactional",
        recipient_key="ana@example.com",
        to={"email": "ana@example.com"},
        data={},
        status=status.value,
        requested_by="system",
    )
    session.add(message)
    session.flush()
    return message


def stored(session: Session, message_id: str) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """A message's status and events as the database holds them."""
    status = session.scalar(select(Message.status).where(Message.id == message_id))
    events = session.execute(
        select(MessageEvent.kind, MessageEvent.detail)
        .where(MessageEvent.message_id == message_id)
        .order_by(MessageEvent.id)
    )
    return str(status), [(kind, detail) for kind, detail in events]


def test_the_table_holds_exactly_the_moves_written_out_here() -> None:
    assert len(TABLE) == len(LISTED) and set(TABLE) == set(LISTED)


@pytest.mark.parametrize(("which", "source", "target", "event"), EVERY_MOVE)
def test_a_message_makes_each_move_of_the_table_and_records_its_event(
    session: Session, which: Move, source: S, target: S, event: str | None
) -> None:
    message = make_message(session, source)
    assert move(session, message.id, which, sources=[source], detail={"by": "lee"}) == 1
    expected = [(event, {"by": "lee"})] if event else []
    assert stored(session, message.id) == (target, expected)
    assert message.status == target  # what the session held was refreshed


@pytest.mark.parametrize(
    ("status", "which"),
    [
        (S.SENT, Move.RETRY),
        (S.DELIVERED, Move.TAKE),
        (S.FAILED, Move.RELEASE),
        (S.REJECTED, Move.SIGN_OFF),
        (S.SUPPRESSED, Move.TAKE),
        (S.HELD, Move.SEND),
    ],
)
def test_an_illegal_move_is_refused_and_leaves_the_message_as_it_was(
    session: Session, status: S, which: Move
) -> None:
    message = make_message(session, status)
    before = session.scalar(select(Message.updated_at).where(Message.id == message.id))
    with pytest.raises(InvalidTransition, match=f"from {status} to {TRANSITIONS[which].target}"):
        move(session, message.id, which, sources=[status], reason="should not be written")
    session.expire_all()
    assert stored(session, message.id) == (status, [])
    assert session.get_one(Message, message.id).reason == ""
    assert session.scalar(select(Message.updated_at).where(Message.id == message.id)) == before


def test_a_move_of_a_message_that_already_moved_on_changes_nothing(session: Session) -> None:
    message = make_message(session, S.SENT)
    # Two workers raced: the other one recorded `sent`; this one's `retry` finds nothing to move.
    assert move(session, message.id, Move.RETRY, detail={"attempt": 2}) == 0
    assert stored(session, message.id) == ("sent", [])


def test_many_messages_move_in_one_statement_and_only_those_the_move_may_take(
    session: Session,
) -> None:
    accepted, queued, held = (
        make_message(session, s, n) for n, s in enumerate((S.ACCEPTED, S.QUEUED, S.HELD), start=1)
    )
    assert move(session, [accepted.id, queued.id, held.id], Move.TAKE) == 2
    assert [stored(session, m.id)[0] for m in (accepted, queued, held)] == [
        "sending",
        "sending",
        "held",
    ]
    assert move(session, [], Move.TAKE) == 0


def test_a_bulk_move_records_its_event_for_each_message_it_moved(session: Session) -> None:
    first, second, sent = (
        make_message(session, s, n) for n, s in enumerate((S.ACCEPTED, S.QUEUED, S.SENT), start=1)
    )
    assert move(session, [first.id, second.id, sent.id], Move.HOLD, detail={"why": "recall"}) == 2
    assert stored(session, first.id) == ("held", [("held", {"why": "recall"})])
    assert stored(session, second.id) == ("held", [("held", {"why": "recall"})])
    assert stored(session, sent.id) == ("sent", [])
