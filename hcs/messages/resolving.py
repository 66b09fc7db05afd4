"""Sends of unknown outcome settled: by a provider's evidence, or by a person, audited.

A message is `unknown` when its provider call ended ambiguously or its worker died between the
call and recording it (`hcs.dispatch.unknown`). A provider's report about it is evidence that
the provider took it: it becomes `sent` (`reconcile`). Otherwise a person decides
(`hcs messages resolve ID --sent|--resend|--fail`, or the API): `resend` sends it again and
marks it `possible_duplicate` in its events and archive entry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import locked_in, move
from hcs.messages.status import MessageStatus, Move
from templates_store.errors import InvalidTransition
from templates_store.orm import utcnow

OUTCOMES = ("sent", "resend", "fail")
# Our own mark, copied into the archive entry beside the providers' reports
# (`hcs.dispatch.archiving.archive_earlier_reports` copies events that carry an `event_key`).
DUPLICATE = "possible_duplicate"


def _close_entry(session: Session, message_id: str, error: str = "") -> None:
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.message_id == message_id, OutboxEntry.done_at.is_(None))
        .values(done_at=utcnow(), leased_until=None, last_error=error)
        .execution_options(synchronize_session=False)
    )


def _reopen_entry(session: Session, message_id: str) -> None:
    entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == message_id)).one()
    entry.done_at, entry.leased_until, entry.available_at = None, None, utcnow()
    entry.last_error = ""


def duplicate_detail(reason: str, by: str) -> dict[str, Any]:
    """The `possible_duplicate` event's detail: why, who, and the mark the archive copies."""
    return {"reason": reason, "by": by, "provider": "hcs", "event_key": DUPLICATE}


def reconcile(
    session: Session,
    message: Message,
    *,
    provider: str,
    provider_message_id: str | None,
    evidence: str = "provider report",
) -> bool:
    """A provider reported on an `unknown` message (or said so when asked, `evidence`): it
    took it, so the message is `sent`."""
    detail = {"provider": provider, "id": provider_message_id, "evidence": evidence}
    values: dict[str, Any] = {"provider": provider, "sent_at": utcnow()}
    if provider_message_id:
        values["provider_message_id"] = provider_message_id
    moved = move(session, message.id, Move.RECONCILE, detail=detail, **values)
    if moved:
        _close_entry(session, message.id)
        session.refresh(message)
    return bool(moved)


def resolve(session: Session, message_id: str, outcome: str, *, actor: str) -> Message:
    """A person settles an `unknown` message: `sent`, `resend` or `fail`; audited."""
    if outcome not in OUTCOMES:
        raise InvalidTransition(f"outcome: one of {', '.join(OUTCOMES)}, not {outcome!r}")
    message = locked_in(session, message_id, MessageStatus.UNKNOWN, "resolved")
    _settle(session, message_id, outcome, actor)
    record(
        session,
        actor=actor,
        action="message.resolve",
        target_type="message",
        target=message_id,
        before={"status": MessageStatus.UNKNOWN.value},
        after={"status": _status_after(outcome), "outcome": outcome},
    )
    session.refresh(message)
    return message


def _status_after(outcome: str) -> str:
    return {"sent": "sent", "resend": "queued", "fail": "failed"}[outcome]


def _settle(session: Session, message_id: str, outcome: str, actor: str) -> None:
    by = {"by": actor}
    if outcome == "sent":
        move(session, message_id, Move.RESOLVE_SENT, detail=by, sent_at=utcnow())
        _close_entry(session, message_id)
    elif outcome == "fail":
        reason = f"resolved as failed by {actor}"
        move(session, message_id, Move.RESOLVE_FAILED, detail=by, reason=reason)
        _close_entry(session, message_id, reason)
    else:
        detail = duplicate_detail(f"sent again by {actor}; the first send may have arrived", actor)
        move(session, message_id, Move.RESEND, detail=detail)
        _reopen_entry(session, message_id)
