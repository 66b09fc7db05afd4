"""Delivery events from provider webhooks: recorded once per message, moving status forwards.

Which reports move a message, and from where, are the `reported` rows of the message state
table (`hcs.messages.status`); every other event (opened, clicked, deferred, a late `sent` after
`delivered`, ...) is recorded without changing status.
Moves are conditional updates, so a message never goes backwards and two concurrent reports
of one event move it once. A report seen before (SendGrid's `sg_event_id`; Twilio's
(MessageSid, status), as Twilio signs no timestamp) is not recorded twice.

A report about a message whose send had an unknown outcome is the provider's evidence that it
took it: the message is reconciled to `sent` first (`hcs.messages.resolving`).

A report that arrives before the worker committed `sent` (the provider called back first) finds
no message by the provider's id, or finds it still `sending`: it is parked (`ParkedEvent`) under
the provider and its message id, and applied when `sent` records that id (`hcs.messages.parking`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from channels.core import DeliveryEvent
from hcs import archive
from hcs.messages.callbacks import owe_callbacks
from hcs.messages.models import Message, MessageEvent, ParkedEvent
from hcs.messages.moves import move
from hcs.messages.optouts import apply_opt_event
from hcs.messages.redaction import redact
from hcs.messages.resolving import reconcile
from hcs.messages.status import REPORTED, MessageStatus
from templates_store.orm import utcnow

# Where a parked report keeps our reference, so that a message whose send then became `unknown`
# (no `sent` will ever name the provider's id) is reconciled by it (`hcs.messages.parking`).
PARKED_REFERENCE = "hcs_reference"
# Reports that change no status but that callers may ask to hear of.
NOT_MOVING_CALLBACKS = frozenset({"opened", "clicked"})


def event_key(event: DeliveryEvent) -> str:
    """What makes two reports the same event of one message."""
    if event.data.get("sg_event_id"):
        return f"sg:{event.data['sg_event_id']}"
    status = event.data.get("status") or event.data.get("event") or event.kind.value
    when = event.occurred_at.isoformat() if event.occurred_at else ""
    return f"{status}@{when}"


def find_message(session: Session, event: DeliveryEvent, *, provider: str) -> Message | None:
    """The message an event is about, row-locked: by our reference, else by the provider's id."""
    if event.reference:
        message = session.get(Message, event.reference, with_for_update=True)
        if message is not None:
            return message
    if not event.provider_message_id:
        return None
    return session.scalars(
        select(Message)
        .where(
            Message.provider == provider,
            Message.provider_message_id == event.provider_message_id,
        )
        .with_for_update()
    ).first()


def _seen(session: Session, message_id: str, kind: str, provider: str, key: str) -> bool:
    events = session.scalars(
        select(MessageEvent).where(MessageEvent.message_id == message_id, MessageEvent.kind == kind)
    )
    return any(
        e.detail.get("provider") == provider and e.detail.get("event_key") == key for e in events
    )


def _reason(event: DeliveryEvent, provider: str, message: Message) -> str:
    if event.reason:
        return redact(event.reason, message.to, message.recipient_key)
    return f"{provider} reported the message {event.kind.value}"


def _move(session: Session, message: Message, event: DeliveryEvent, provider: str) -> bool:
    """Make the move the report's kind makes, if any; true when the status changed."""
    which = REPORTED.get(event.kind.value)
    if which is None:
        return False
    values: dict[str, Any] = {}
    if which.value.target is MessageStatus.FAILED:
        values["reason"] = _reason(event, provider, message)
    return bool(move(session, message.id, which, **values))


def _detail(
    event: DeliveryEvent, provider: str, key: str, moved: bool, message: Message
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "provider": provider,
        "event_key": key,
        "provider_status": event.data.get("status") or event.data.get("event") or "",
        "moved": moved,
    }
    if event.reason:
        detail["reason"] = redact(event.reason, message.to, message.recipient_key)
    return detail


def _archive(
    session: Session,
    message: Message,
    kind: str,
    at: datetime,
    detail: dict[str, Any],
    keys: archive.Keyring | None,
) -> None:
    """Append the event to the message's archive entry, when it has one."""
    try:
        archive.add_delivery_event(
            session,
            message_id=message.id,
            kind=kind,
            at=at,
            provider=detail["provider"],
            detail=detail,
            keys=keys,
        )
    except archive.EntryNotFound:  # sent before the archive existed, or by an unarchived worker
        return


def lock_messages(session: Session, events: Sequence[DeliveryEvent], *, provider: str) -> None:
    """Row-lock every message a batch of reports is about, in ascending id order, at once.

    One provider request reports on many messages in its own order; locking them one by one in
    that order let two concurrent requests deadlock (the lock order is in `hcs.sealing.sealer`).
    """
    references = {event.reference for event in events if event.reference}
    provider_ids = {event.provider_message_id for event in events if event.provider_message_id}
    if not references and not provider_ids:
        return
    ours = and_(Message.provider == provider, Message.provider_message_id.in_(provider_ids))
    query = select(Message.id).where(or_(Message.id.in_(references), ours))
    session.execute(query.order_by(Message.id).with_for_update()).all()


def record_delivery_events(
    session: Session,
    events: Sequence[DeliveryEvent],
    *,
    provider: str,
    keys: archive.Keyring | None = None,
) -> list[Message | None]:
    """Record a provider's batch of reports (see `record_delivery_event`), locks taken in order."""
    lock_messages(session, events, provider=provider)
    return [record_delivery_event(session, event, provider=provider, keys=keys) for event in events]


def record_delivery_event(
    session: Session,
    event: DeliveryEvent,
    *,
    provider: str,
    keys: archive.Keyring | None = None,
) -> Message | None:
    """Record one provider report on its message (once), moving its status by the table.

    The event is appended to the message's archive entry too, encrypted under `keys` (the
    worker's keyring, i.e. the settings'). Opt-out and opt-in reports also update consent, with
    or without a message. Returns the message, or None when it is about no message of ours.
    """
    message = find_message(session, event, provider=provider)
    waiting = message is None or message.status == MessageStatus.SENDING
    if event.provider_message_id and waiting:
        _park(session, event, provider, event.provider_message_id)
    elif message is not None:
        if message.status == MessageStatus.UNKNOWN:  # any report proves the provider took it
            reconcile(
                session, message, provider=provider, provider_message_id=event.provider_message_id
            )
        record_on(session, message, event, provider=provider, keys=keys)
    apply_opt_event(session, event, message, provider=provider)
    return message


def record_on(
    session: Session,
    message: Message,
    event: DeliveryEvent,
    *,
    provider: str,
    keys: archive.Keyring | None = None,
    received_at: datetime | None = None,
) -> None:
    """Record one report on its message, unless it was recorded before.

    :param received_at: when a report that carries no time of its own (Twilio's) came in
    """
    key = event_key(event)
    if not _seen(session, message.id, event.kind.value, provider, key):
        at = event.occurred_at or received_at or utcnow()
        _record(session, message, event, provider, key, keys, at)


def _park(session: Session, event: DeliveryEvent, provider: str, provider_message_id: str) -> None:
    """Keep a report about a message whose `sent` is not recorded yet, by the provider's id
    (and by our reference, when it carries one)."""
    data = dict(event.data)
    if event.reference:
        data[PARKED_REFERENCE] = event.reference
    parked = ParkedEvent(
        provider=provider,
        provider_message_id=provider_message_id,
        kind=event.kind.value,
        occurred_at=event.occurred_at,
        reason=event.reason,
        data=data,
        received_at=utcnow(),
    )
    session.add(parked)
    session.flush()


def _record(
    session: Session,
    message: Message,
    event: DeliveryEvent,
    provider: str,
    key: str,
    keys: archive.Keyring | None,
    at: datetime,
) -> None:
    moved = _move(session, message, event, provider)
    detail = _detail(event, provider, key, moved, message)
    session.add(MessageEvent(message_id=message.id, kind=event.kind.value, at=at, detail=detail))
    if not moved and event.kind.value in NOT_MOVING_CALLBACKS:  # a move owes its own
        owe_callbacks(session, message.id, event.kind.value, at)
    _archive(session, message, event.kind.value, at, detail, keys)
    session.flush()
    if moved:
        session.refresh(message)
