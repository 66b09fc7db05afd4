"""After a send: the exact output and its AI provenance go to the archive."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, and_, cast, select
from sqlalchemy.orm import Session

from hcs import archive
from hcs.dispatch.finishing import Finished
from hcs.infrastructure.lists import by_array, one_of
from hcs.messages import telemetry
from hcs.messages.erasure import is_erased
from hcs.messages.models import Message, MessageEvent
from hcs.messages.moves import record_event
from hcs.signoffs.gate import item_of
from templates_store.models import TemplateVersion

# Why a sent message has no archive entry: its recipient was erased (nothing personal is kept).
ERASED = "recipient erased"


def ai_provenance(
    session: Session, message: Message, disclosure: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Who wrote the AI text and who signed it off: model, parameters, inputs, findings, edits.

    `disclosure` is what this message showed of the AI disclosure on its own channel.
    """
    version = session.get_one(TemplateVersion, message.version_id)
    # Only a version with AI slots has sign-offs; the worker's session already holds it.
    item = item_of(session, message.id) if version.ai_slots else None
    if item is None:
        return None
    return {
        "slots": item.slots,
        "signed_off_by": item.decided_by,
        "signed_off_at": item.decided_at.isoformat() if item.decided_at else None,
        "batch": item.batch,
        "edits": item.edits,
        "acknowledged": item.acknowledged,
        "comment": item.comment,
        "generated_at": item.created_at.isoformat(),
        "disclosure": disclosure,
    }


def archive_sent(
    session: Session, message: Message, finished: Finished, keys: archive.Keyring | None = None
) -> None:
    """Archive the output of a sent message, encrypted under `keys` (the worker's settings')."""
    archive_round(session, [(message, finished)], keys)


def archive_round(
    session: Session,
    sent: Sequence[tuple[Message, Finished]],
    keys: archive.Keyring | None = None,
) -> None:
    """Archive the outputs of messages sent together, in a few statements for them all.

    A message whose recipient was erased since it was read (the erasure redacts it) is not
    archived: its output names them, and their keys are gone; it gets `archive_skipped`.
    """
    kept = []
    for message, finished in sent:
        if is_erased(message):
            record_event(session, message.id, "archive_skipped", reason=ERASED)
        else:
            kept.append((message, finished))
    if not kept:
        return
    outputs = [_output(session, message, finished) for message, finished in kept]
    archive.record_outputs(session, outputs, keys)
    archive_earlier_reports(session, [message.id for message, _ in kept], keys)
    for message, _ in kept:
        telemetry.ARCHIVED.labels(message.channel).inc()


def _output(session: Session, message: Message, finished: Finished) -> archive.Output:
    return archive.Output(
        message_id=message.id,
        template=message.template_key,
        version=message.version_number,
        closure_hash=finished.rendered.closure_hash or "",
        channel=message.channel,
        locale=finished.rendered.locale,
        category=message.category,
        recipient_key=message.recipient_key,
        recipient=message.to,
        data=message.data,
        output=finished.output,
        content_type=finished.content_type,
        provider=message.provider or "",
        provider_message_id=message.provider_message_id,
        ai=ai_provenance(session, message, finished.disclosure),
        sent_at=message.sent_at or message.created_at,
    )


_EVENTS, _MESSAGES = MessageEvent.__table__, Message.__table__
_DETAIL = cast(_EVENTS.c.detail, Text)
# Built once: it runs for every round archived. Every message of the round is locked (the outer
# side of the join), while only the events whose detail names an event key come back: nearly
# all are the worker's own, not worth a row, a datetime and a JSON parse each.
_RECORDED = {
    array: select(_MESSAGES.c.id, _EVENTS.c.kind, _EVENTS.c.at, _DETAIL)
    .outerjoin(
        _EVENTS,
        and_(
            _EVENTS.c.message_id == _MESSAGES.c.id, _DETAIL.contains("event_key", autoescape=True)
        ),
    )
    .where(one_of(_MESSAGES.c.id, "message_ids", array=array))
    .order_by(_EVENTS.c.id)
    .with_for_update(of=_MESSAGES)
    for array in (False, True)
}


def archive_earlier_reports(
    session: Session, message_ids: Sequence[str], keys: archive.Keyring | None = None
) -> None:
    """Copy into the new entries the provider reports recorded before they existed.

    Reports parked before `sent`, and any that came between `sent` and this transaction, found
    no entry to append to. The messages' row locks make a report arriving now wait for these
    entries, so each report is in its entry once.
    """
    statement = _RECORDED[by_array(session)]
    recorded = session.execute(statement, {"message_ids": list(message_ids)})
    for message_id, kind, at, text in recorded:
        detail = {} if text is None else json.loads(text)
        if "event_key" in detail:  # a provider's report, not one of the worker's own
            archive.add_delivery_event(
                session,
                message_id=message_id,
                kind=kind,
                at=at,
                provider=detail["provider"],
                detail=detail,
                keys=keys,
            )
