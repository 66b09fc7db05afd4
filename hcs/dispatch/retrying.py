"""Failed messages queued again on purpose (`hcs messages retry`, or one from its page or the
API), audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.messages.erasure import is_erased, not_erased
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import locked_in, move
from hcs.messages.status import MessageStatus, Move
from templates_store.errors import InvalidTransition
from templates_store.orm import utcnow

AUDITED_IDS = 1000


def failed_since(session: Session, since: datetime) -> Sequence[str]:
    """Messages that failed at or after `since` before any provider took them, oldest first.

    A message that failed after it was sent (a bounce reported later) reached a provider once
    already: it is left alone, and so is one whose recipient was erased.
    """
    return session.scalars(
        select(Message.id)
        .where(Message.status == MessageStatus.FAILED, Message.sent_at.is_(None))
        .where(not_erased())  # nobody to send to
        .where(Message.updated_at >= since)
        .order_by(Message.updated_at, Message.id)
    ).all()


def _requeue_entry(session: Session, message_id: str, now: datetime) -> None:
    entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == message_id)).first()
    if entry is None:
        session.add(OutboxEntry(message_id=message_id, available_at=now))
        return
    entry.done_at, entry.leased_until, entry.available_at = None, None, now
    entry.attempts, entry.refusals, entry.retrying_since, entry.last_error = 0, 0, None, ""


def retry_failed(session: Session, since: datetime, *, actor: str) -> list[str]:
    """Queue again every message failed since `since`; their ids, with one audit entry."""
    now, queued = utcnow(), []
    for message_id in failed_since(session, since):
        if move(session, message_id, Move.REQUEUE, detail={"actor": actor}, reason=""):
            _requeue_entry(session, message_id, now)
            queued.append(message_id)
    if queued:
        audit.record(
            session,
            actor=actor,
            action="messages.retry",
            target_type="messages",
            target=f"failed since {since.isoformat()}",
            # The ids of a very large retry are in the messages' own `requeued` events.
            detail={
                "count": len(queued),
                "since": since.isoformat(),
                "message_ids": queued[:AUDITED_IDS],
            },
        )
    return queued


def why_not_again(message: Message) -> str | None:
    """Why a failed message must not be sent again, or None when it may: another copy after a
    provider took it would be a duplicate, and an erased recipient has nobody to send to."""
    if message.sent_at is not None:
        return "reached its provider before it failed; sending it again would be a second copy"
    if is_erased(message):
        return "has an erased recipient: nobody to send it to"
    return None


def retry_one(session: Session, message_id: str, *, actor: str) -> Message:
    """Queue one failed message again; refused (`why_not_again`) when a provider took it before
    it failed or its recipient was erased. Audited."""
    message = locked_in(session, message_id, MessageStatus.FAILED, "sent again")
    refusal = why_not_again(message)
    if refusal:
        raise InvalidTransition(f"message {message_id!r} {refusal}")
    reason = message.reason
    move(session, message_id, Move.REQUEUE, detail={"actor": actor}, reason="")
    _requeue_entry(session, message_id, utcnow())
    audit.record(
        session,
        actor=actor,
        action="message.retry",
        target_type="message",
        target=message_id,
        before={"status": MessageStatus.FAILED.value, "reason": reason},
        after={"status": MessageStatus.QUEUED.value},
    )
    session.refresh(message)
    return message
