"""The message log: what was asked to be sent, filtered, newest first, a page at a time.

Pages are keyset pages on `(created_at, id)`: a cursor names the last row shown, so a page stays
correct however many messages arrive meanwhile, and reading page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from hcs.messages.models import Message
from templates_store.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class LogFilters:
    """What a caller narrows the log to; `None` means any."""

    status: str | None = None
    template: str | None = None
    channel: str | None = None
    batch_id: str | None = None
    reference: str | None = None
    is_test: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class LogPage:
    """One page of the log and the cursor of the next one (`None` on the last page)."""

    messages: list[Message]
    next_cursor: str | None


def encode_cursor(message: Message) -> str:
    """An opaque cursor that points just after `message`."""
    raw = json.dumps([message.created_at.isoformat(), message.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names; a cursor not made here is a 422 naming `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, message_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _aware(datetime.fromisoformat(at)), str(message_id)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValidationFailed({"cursor": ["is not a cursor this API gave"]}) from None


def _aware(moment: datetime) -> datetime:
    """A moment read from a cursor, in UTC (the database refuses naive ones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filtered(filters: LogFilters, requested_by: str | None) -> Select[Any]:
    query = select(Message)
    exact = {
        Message.status: filters.status,
        Message.template_key: filters.template,
        Message.channel: filters.channel,
        Message.batch_id: filters.batch_id,
        Message.reference: filters.reference,
        Message.is_test: filters.is_test,
        Message.requested_by: requested_by,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if filters.created_after is not None:
        query = query.where(Message.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Message.created_at < filters.created_before)
    return query


def search(
    session: Session,
    filters: LogFilters,
    *,
    requested_by: str | None,
    limit: int = 50,
    cursor: str | None = None,
) -> LogPage:
    """Messages matching every filter, newest first; only `requested_by`'s unless it is `None`."""
    query = _filtered(filters, requested_by)
    if cursor is not None:
        at, message_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Message.created_at < at,
                and_(Message.created_at == at, Message.id < message_id),
            )
        )
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)
    found = list(session.scalars(query))
    more = len(found) > limit
    shown = found[:limit]
    return LogPage(shown, encode_cursor(shown[-1]) if more and shown else None)


def batch_counts(session: Session, batch_id: str, *, requested_by: str | None) -> dict[str, int]:
    """How many of a batch's messages are in each status; unknown or not the caller's: 404."""
    query = select(Message.status, func.count()).where(Message.batch_id == batch_id)
    if requested_by is not None:
        query = query.where(Message.requested_by == requested_by)
    counts = {status: n for status, n in session.execute(query.group_by(Message.status))}
    if not counts:
        raise NotFound(f"no batch {batch_id!r}")
    return counts


def batch_created_at(session: Session, batch_id: str) -> datetime | None:
    """When a batch was accepted (its messages share the moment)."""
    return session.scalar(select(func.min(Message.created_at)).where(Message.batch_id == batch_id))
