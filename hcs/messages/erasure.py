"""Erasing one recipient's personal data from messages and everything kept beside them.

The archive's copy is erased by destroying keys (`hcs.archive.erasure`); the working copies
here are redacted in place. A message keeps its id, status, template, version, channel, times
and the caller's reference; its address, data, metadata and failure text go, its events keep
only the provider's event key, and its recipient key becomes a pseudonym, so it is never
archived late with what is left. Opt-outs are kept under the same pseudonym (consent looks it
up), so the erasure of someone who asked not to be written to does not write to them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_, update
from sqlalchemy.orm import Session

from hcs.messages.cancelling import cancel_many
from hcs.messages.consent import ERASED_PREFIX, erased_alias
from hcs.messages.idempotency import erased_key
from hcs.messages.models import (
    Consent,
    IdempotencyRecord,
    Message,
    MessageEvent,
    OutboxEntry,
    ParkedEvent,
)

ERASED = "[erased]"
# What an event's detail keeps: the provider and its event key (which find a replay), no text.
EVENT_KEEPS = ("provider", "event_key", "moved")


def pseudonym(key: str) -> str:
    """The recipient key an erased recipient's rows keep: a digest, never the address."""
    return erased_alias(key)


def is_erased(message: Message) -> bool:
    """Whether the message's recipient was erased."""
    return message.recipient_key.startswith(ERASED_PREFIX)


def not_erased() -> ColumnElement[bool]:
    """`is_erased`, negated, as a condition on the messages a query reads."""
    return Message.recipient_key.not_like(f"{ERASED_PREFIX}%")


def erase_messages(session: Session, key: str, *, actor: str) -> list[str]:
    """Cancel what is not sent yet and redact every message to `key`; their ids."""
    query = select(Message.id).where(Message.recipient_key == key).order_by(Message.id)
    ids = list(session.scalars(query))
    if not ids:
        _pseudonymise_consent(session, key)
        return ids
    cancel_many(session, ids, actor=actor)
    _redact_events(session, ids)
    _redact_parked(session, ids)
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.message_id.in_(ids), OutboxEntry.last_error != "")
        .values(last_error=ERASED)
        .execution_options(synchronize_session=False)
    )
    redacted: dict[str, Any] = {
        "recipient_key": pseudonym(key),
        "to": {},
        "data": {},
        "caller_metadata": None,
    }
    for message in session.scalars(select(Message).where(Message.id.in_(ids))):
        for name, value in redacted.items():
            setattr(message, name, value)
        message.reason = ERASED if message.reason else ""
    _pseudonymise_consent(session, key)
    _pseudonymise_idempotency(session, ids)
    session.flush()
    return ids


def _pseudonymise_idempotency(session: Session, ids: Sequence[str]) -> None:
    """The caller's Idempotency-Key may name the recipient: the record keeps its digest."""
    answered = IdempotencyRecord.response["id"].as_string().in_(ids)
    for record in session.scalars(select(IdempotencyRecord).where(answered)):
        if not record.key.startswith("erased:"):
            record.key = erased_key(record.principal, record.key)


def _redact_events(session: Session, ids: Sequence[str]) -> None:
    for event in session.scalars(select(MessageEvent).where(MessageEvent.message_id.in_(ids))):
        kept: dict[str, Any] = {k: v for k, v in event.detail.items() if k in EVENT_KEEPS}
        event.detail = {**kept, "erased": True}


def _redact_parked(session: Session, ids: Sequence[str]) -> None:
    sent = select(Message.provider, Message.provider_message_id).where(
        Message.id.in_(ids), Message.provider_message_id.is_not(None)
    )
    pairs = [tuple(row) for row in session.execute(sent)]
    if not pairs:
        return
    which = tuple_(ParkedEvent.provider, ParkedEvent.provider_message_id).in_(pairs)
    session.execute(
        update(ParkedEvent)
        .where(which)
        .values(data={}, reason=None)
        .execution_options(synchronize_session=False)
    )


def _pseudonymise_consent(session: Session, key: str) -> None:
    """Opt-ins go; opt-outs stay under the pseudonym (one row per channel and category)."""
    alias = pseudonym(key)
    query = select(Consent).where(Consent.recipient_key.in_((key, alias)))
    rows = list(session.scalars(query.order_by(Consent.id)))
    kept = {(row.channel, row.category) for row in rows if row.recipient_key == alias}
    for row in rows:
        if row.recipient_key == alias:
            continue
        if row.status != "opted_out" or (row.channel, row.category) in kept:
            session.delete(row)
            continue
        row.recipient_key = alias
        kept.add((row.channel, row.category))
