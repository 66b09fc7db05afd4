"""Cancelling messages that wait for sign-off: their items are withdrawn from the queue.

A cancelled message will never be sent, so its pending item must not stay in anyone's queue nor
be approved afterwards: the cancel and the withdrawal are one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from hcs.messages import cancelling
from hcs.signoffs.models import PENDING, WITHDRAWN, SignoffItem
from templates_store.orm import utcnow


def withdraw(session: Session, message_ids: Sequence[str], *, actor: str) -> int:
    """Withdraw the pending sign-off items of these (cancelled) messages; how many."""
    if not message_ids:
        return 0
    result = session.execute(
        update(SignoffItem)
        .where(SignoffItem.message_id.in_(message_ids), SignoffItem.status == PENDING)
        .values(
            status=WITHDRAWN,
            decided_by=actor,
            decided_at=utcnow(),
            comment="the message was cancelled",
        )
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def cancel(session: Session, message_id: str, *, actor: str) -> None:
    """Cancel one message (409 once it is sending) and withdraw its sign-off item."""
    cancelling.cancel(session, message_id, actor=actor)
    withdraw(session, [message_id], actor=actor)


def cancel_batch(
    session: Session, batch_id: str, *, requested_by: str | None, actor: str
) -> tuple[list[str], int]:
    """Cancel what of a batch has not started to go out, withdrawing their sign-off items."""
    cancelled, left = cancelling.cancel_batch(
        session, batch_id, requested_by=requested_by, actor=actor
    )
    withdraw(session, cancelled, actor=actor)
    return cancelled, left
