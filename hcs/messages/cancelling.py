"""Cancelling messages that have not started to go out: one, or what is left of a batch.

A message may be cancelled while no dispatcher holds its outbox entry and its status is one of
CANCELLABLE. A dispatcher's lease on the entry counts as `sending`: from the moment a worker
takes an entry, the answer is 409, so a cancel that succeeds never races a send.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import move
from hcs.messages.status import MessageStatus, Move
from templates_store.errors import Conflict, NotFound
from templates_store.orm import utcnow

CANCELLABLE = tuple(status.value for status in Move.CANCEL.value.sources)
# The lease owner of entries handed to the broker but not yet taken by a worker
# (hcs.dispatch.queueing.QUEUED): such an entry is still only waiting.
WAITING_IN_BROKER = "queue"


def _held_by_a_worker(session: Session, message_ids: Sequence[str]) -> set[str]:
    """Those of these messages whose open outbox entry a worker holds.

    On PostgreSQL the entries stay locked to the end of the transaction, taken before the
    messages as a dispatcher takes them, so a cancel and a dispatch round never deadlock.
    """
    now = utcnow()
    query = select(OutboxEntry.message_id, OutboxEntry.leased_until, OutboxEntry.lease_owner).where(
        OutboxEntry.message_id.in_(message_ids), OutboxEntry.done_at.is_(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {
        message_id
        for message_id, until, owner in session.execute(query)
        if until is not None and until >= now and owner != WAITING_IN_BROKER
    }


def cancel_many(session: Session, message_ids: Sequence[str], *, actor: str) -> list[str]:
    """Cancel those of these messages that have not started to go out; the ids cancelled."""
    busy = _held_by_a_worker(session, message_ids)
    candidates = [m for m in message_ids if m not in busy]
    if not candidates:
        return []
    cancellable = list(
        session.scalars(
            select(Message.id).where(Message.id.in_(candidates), Message.status.in_(CANCELLABLE))
        )
    )
    if not cancellable:
        return []
    move(session, cancellable, Move.CANCEL, detail={"by": actor}, reason=f"cancelled by {actor}")
    cancelled = list(
        session.scalars(
            select(Message.id)
            .where(Message.id.in_(cancellable), Message.status == MessageStatus.CANCELLED.value)
            .execution_options(populate_existing=True)
        )
    )
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.message_id.in_(cancelled), OutboxEntry.done_at.is_(None))
        .values(done_at=utcnow(), leased_until=None, last_error="cancelled")
        .execution_options(synchronize_session=False)
    )
    return cancelled


def cancel(session: Session, message_id: str, *, actor: str) -> None:
    """Cancel one message, audited; 409 once it is sending or past it."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}")
    if not cancel_many(session, [message_id], actor=actor):
        session.refresh(message)
        raise Conflict(
            f"message {message_id!r} is {_state(session, message)}; it cannot be cancelled"
        )
    record(
        session,
        actor=actor,
        action="message.cancel",
        target_type="message",
        target=message_id,
        before={"status": message.status},
        after={"status": "cancelled"},
    )


def _state(session: Session, message: Message) -> str:
    if message.status in CANCELLABLE:  # its entry is held by a worker: it is being sent
        return "sending"
    return message.status


def cancel_batch(
    session: Session, batch_id: str, *, requested_by: str | None, actor: str
) -> tuple[list[str], int]:
    """Cancel what of a batch has not started to go out, audited; the ids and how many were not."""
    query = select(Message.id).where(Message.batch_id == batch_id)
    if requested_by is not None:
        query = query.where(Message.requested_by == requested_by)
    ids = list(session.scalars(query))
    if not ids:
        raise NotFound(f"no batch {batch_id!r}")
    cancelled = cancel_many(session, ids, actor=actor)
    if not cancelled:
        raise Conflict(f"no message of batch {batch_id!r} can be cancelled any more")
    record(
        session,
        actor=actor,
        action="batch.cancel",
        target_type="batch",
        target=batch_id,
        detail={"cancelled": len(cancelled), "not_cancelled": len(ids) - len(cancelled)},
    )
    return cancelled, len(ids) - len(cancelled)
