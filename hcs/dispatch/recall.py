"""Recalls: suspending a version holds its unsent messages; the impact report says who got what."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import move
from hcs.messages.status import MessageStatus, Move
from hcs.signoffs.gate import item_of
from hcs.signoffs.models import PENDING
from templates_store.errors import Conflict
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from templates_store.orm import utcnow
from templates_store.status import SENDABLE

S = MessageStatus
# What a recall holds: not yet taken by a dispatcher.
UNSENT = (S.ACCEPTED, S.QUEUED, S.AWAITING_SIGNOFF)


def _unsent(
    session: Session, version: TemplateVersion, statuses: tuple[MessageStatus, ...]
) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(Message.version_id == version.id, Message.status.in_(statuses))
        )
    )


def hold(
    session: Session,
    message: Message,
    reason: str,
    sources: tuple[MessageStatus, ...] | None = None,
) -> None:
    """Hold one unsent message: nothing sends it until it is released.

    :param sources: the statuses it may be held from, when fewer than the table's
    """
    if move(
        session, message.id, Move.HOLD, sources=sources, detail={"reason": reason}, reason=reason
    ):
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == message.id)
            .values(done_at=utcnow(), leased_until=None)
        )


def suspend(session: Session, key: str, number: int, *, actor: str, reason: str) -> int:
    """Recall a version: it sends nothing more, and every message of it not yet sent is held."""
    version = get_version(session, key, number)
    if version.status not in SENDABLE:
        raise Conflict(f"version {number} is {version.status.value}; only sendable versions")
    if version.suspended_at is not None:
        raise Conflict(f"version {number} of {key!r} is already suspended")
    version.suspended_at = utcnow()
    held = _unsent(session, version, UNSENT)
    for message in held:
        hold(session, message, f"version {number} suspended: {reason}", UNSENT)
    session.flush()
    record(
        session,
        actor=actor,
        action="template.suspend",
        target_type="template",
        target=f"{key} v{number}",
        detail={"reason": reason, "held": len(held)},
    )
    return len(held)


def resume(session: Session, key: str, number: int, *, actor: str) -> list[str]:
    """Lift a recall: held messages go back to sending (or to their pending sign-off)."""
    version = get_version(session, key, number)
    if version.suspended_at is None:
        raise Conflict(f"version {number} of {key!r} is not suspended")
    version.suspended_at = None
    released = []
    for message in _unsent(session, version, (S.HELD,)):
        item = item_of(session, message.id)
        by = {"by": actor}
        if item is not None and item.status == PENDING:
            move(session, message.id, Move.RELEASE_TO_SIGNOFF, detail=by, reason="")
        elif move(session, message.id, Move.RELEASE, detail=by, reason=""):
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.message_id == message.id)
                .values(done_at=None, available_at=utcnow(), leased_until=None)
            )
            released.append(message.id)
    session.flush()
    record(
        session,
        actor=actor,
        action="template.resume",
        target_type="template",
        target=f"{key} v{number}",
        detail={"released": len(released)},
    )
    return released


def impact(
    session: Session, key: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Who received which version, per channel, in a date range (`until` exclusive)."""
    query = select(Message).where(Message.template_key == key, Message.sent_at.is_not(None))
    if since is not None:
        query = query.where(Message.sent_at >= since)
    if until is not None:
        query = query.where(Message.sent_at < until)
    groups: dict[tuple[int, str], list[Message]] = defaultdict(list)
    for message in session.scalars(query.order_by(Message.sent_at)):
        groups[(message.version_number, message.channel)].append(message)
    return [
        {
            "version": version,
            "channel": channel,
            "messages": len(sent),
            "recipients": sorted({m.recipient_key for m in sent}),
            "first_sent_at": sent[0].sent_at,
            "last_sent_at": sent[-1].sent_at,
        }
        for (version, channel), sent in sorted(groups.items())
    ]
