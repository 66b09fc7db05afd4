"""Reports that came before `sent`: applied once `sent` records the provider's id, else dropped.

A provider may call back before the worker has committed `sent` with the provider's message id
(Twilio's status callbacks do, within milliseconds). `hcs.messages.events` parks such a report;
the worker applies it in the transaction that records `sent` (`apply_parked`), so the message
moves on in order (`sent`, then `delivered`) and the event joins its history, and the archive
entry written just after takes it from there (`hcs.dispatch.archiving`). A report parked while
`sent` was being committed is applied by the housekeeping round (`settle_parked`). Reports that
no `sent` claims within `PARKED_FOR` (about no message of ours) are dropped.

A send whose outcome became `unknown` (a timeout, a worker that died inside its provider call)
never records the provider's id, so its reports parked meanwhile are found by our reference
instead: they are the provider's evidence, and reconcile it (`reconcile_parked`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from channels.core import DeliveryEvent, EventKind
from hcs.archive import Keyring
from hcs.messages.events import PARKED_REFERENCE, record_on
from hcs.messages.models import Message, ParkedEvent
from hcs.messages.resolving import reconcile
from hcs.messages.status import MessageStatus
from templates_store.orm import utcnow

PARKED_FOR = timedelta(hours=1)


def _as_event(parked: ParkedEvent) -> DeliveryEvent:
    return DeliveryEvent(
        kind=EventKind(parked.kind),
        provider=parked.provider,
        provider_message_id=parked.provider_message_id,
        recipient=None,
        occurred_at=parked.occurred_at,
        reason=parked.reason,
        reference=parked.data.get(PARKED_REFERENCE),
        data=parked.data,
    )


def _apply(
    session: Session, message: Message, parked: list[ParkedEvent], keys: Keyring | None
) -> None:
    for report in parked:
        event, at = _as_event(report), report.received_at
        record_on(session, message, event, provider=report.provider, keys=keys, received_at=at)
        session.delete(report)
    session.flush()


_PARKED = ParkedEvent.__table__.c
_REFERENCE = ParkedEvent.data[PARKED_REFERENCE].as_string()
_ANY_PARKED = (
    select(_PARKED.id)
    .where(
        _PARKED.provider == bindparam("provider"),
        _PARKED.provider_message_id == bindparam("id"),
        _PARKED.received_at >= bindparam("since"),
    )
    .limit(1)
)


def _names(message_id: Any) -> ColumnElement[bool]:
    """A parked report is about this message: by our reference, or it carries none.

    One batched call gives every message in it the same provider id (SendGrid's request id):
    only the reference tells its reports apart.
    """
    return or_(_REFERENCE.is_(None), _REFERENCE == message_id)


def apply_parked(
    session: Session, message_id: str, provider: str, provider_message_id: str | None
) -> int:
    """Apply the reports parked under the provider's id `sent` just recorded; how many."""
    if not provider_message_id:
        return 0
    arguments = {"provider": provider, "id": provider_message_id, "since": utcnow() - PARKED_FOR}
    if session.execute(_ANY_PARKED, arguments).first() is None:
        return 0  # the usual case, in one cheap statement on every send
    parked = session.scalars(
        select(ParkedEvent)
        .where(
            ParkedEvent.provider == provider,
            ParkedEvent.provider_message_id == provider_message_id,
            ParkedEvent.received_at >= utcnow() - PARKED_FOR,
            _names(message_id),
        )
        .order_by(ParkedEvent.id)
    ).all()
    if parked:
        # `sent` was an UPDATE statement: the session may still hold the message as `sending`.
        message = session.get_one(Message, message_id, populate_existing=True)
        # No archive entry yet: the archiving step copies these events into it.
        _apply(session, message, list(parked), None)
    return len(parked)


def reconcile_parked(
    session: Session, message_id: str, keys: Keyring | None = None
) -> MessageStatus | None:
    """Reports parked under our reference reconcile an `unknown` message; its new status.

    None when there are none, or the message is not `unknown`.
    """
    parked = session.scalars(
        select(ParkedEvent)
        .where(_REFERENCE == message_id, ParkedEvent.received_at >= utcnow() - PARKED_FOR)
        .order_by(ParkedEvent.id)
    ).all()
    if not parked:
        return None
    message = session.get_one(Message, message_id, populate_existing=True, with_for_update=True)
    if message.status != MessageStatus.UNKNOWN:
        return None
    first = parked[0]
    reconcile(
        session, message, provider=first.provider, provider_message_id=first.provider_message_id
    )
    _apply(session, message, list(parked), keys)
    session.refresh(message)
    return MessageStatus(message.status)


def _reconcile_unknown(session: Session, keys: Keyring | None) -> int:
    """`reconcile_parked` for every unknown message that has reports parked by reference."""
    unknown = session.scalars(
        select(Message.id)
        .join(ParkedEvent, _REFERENCE == Message.id)
        .where(Message.status == MessageStatus.UNKNOWN)
        .distinct()
    ).all()
    return sum(reconcile_parked(session, message_id, keys) is not None for message_id in unknown)


def settle_parked(
    session: Session, *, keys: Keyring | None = None, now: datetime | None = None
) -> int:
    """Apply parked reports whose message has recorded `sent` since, or that reconcile an
    `unknown` one by our reference; drop expired ones.

    :param keys: the archive's keyring, for the events appended to archive entries
    """
    cutoff = (now or utcnow()) - PARKED_FOR
    session.execute(delete(ParkedEvent).where(ParkedEvent.received_at < cutoff))
    claimed = session.execute(
        select(ParkedEvent, Message)
        .join(
            Message,
            and_(
                Message.provider == ParkedEvent.provider,
                Message.provider_message_id == ParkedEvent.provider_message_id,
                _names(Message.id),
            ),
        )
        .order_by(ParkedEvent.id)
        .with_for_update(of=Message)
    ).all()
    for report, message in claimed:
        _apply(session, message, [report], keys)
    return len(claimed) + _reconcile_unknown(session, keys)
