"""The sign-off queue: approve (optionally editing), reject, batch-approve after a sample."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hcs.ai.guardrails import run_guardrails
from hcs.ai.personal_data import approved_texts
from hcs.ai.slots import slot_from
from hcs.audit import record
from hcs.governance.policies import policy_for
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import move, record_event
from hcs.messages.status import MessageStatus, Move
from hcs.signoffs.generation import allowed_inputs
from hcs.signoffs.models import (
    APPROVED,
    EXPIRED,
    OPEN,
    PENDING,
    REFUSED,
    REJECTED,
    SignoffBatch,
    SignoffItem,
)
from templates_store.errors import Conflict, NotFound, ValidationFailed
from templates_store.models import TemplateVersion
from templates_store.orm import utcnow

DEFAULT_TTL = timedelta(hours=72)


def open_item(
    session: Session,
    message: Message,
    slots: dict[str, dict[str, Any]],
    *,
    ttl: timedelta = DEFAULT_TTL,
) -> SignoffItem:
    """Put a message with AI text in the queue; it waits in `awaiting_signoff`."""
    item = SignoffItem(
        message_id=message.id,
        template_key=message.template_key,
        version_number=message.version_number,
        status=PENDING,
        slots=slots,
        is_flagged=any(s["flagged"] for s in slots.values()),
        edits=[],
        comment="",
        batch=False,
        expires_at=utcnow() + ttl,
    )
    session.add(item)
    session.flush()
    move(session, message.id, Move.AWAIT_SIGNOFF, detail={"flagged": item.is_flagged}, reason="")
    return item


def get_item(session: Session, item_id: int) -> SignoffItem:
    """One item, or NotFound."""
    item = session.get(SignoffItem, item_id)
    if item is None:
        raise NotFound(f"no sign-off item {item_id}")
    return item


def list_items(
    session: Session, *, status: str | None = PENDING, template: str | None = None
) -> list[SignoffItem]:
    """The queue, oldest first."""
    query = select(SignoffItem).order_by(SignoffItem.id)
    if status:
        query = query.where(SignoffItem.status == status)
    if template:
        query = query.where(SignoffItem.template_key == template)
    return list(session.scalars(query))


def _pending(item: SignoffItem) -> None:
    if item.status != PENDING:
        raise Conflict(f"sign-off item {item.id} is {item.status}")


Checker = Callable[[str, str], list[dict[str, Any]]]


def _checker(session: Session, item: SignoffItem) -> Checker:
    """Run the guardrails of one of the item's slots on a text, as generation does."""
    message = session.get_one(Message, item.message_id)
    version = session.get_one(TemplateVersion, message.version_id)
    slots = {d["name"]: slot_from(d) for d in version.ai_slots}
    options = policy_for(session, message.category).guardrail_options()

    def check(name: str, text: str) -> list[dict[str, Any]]:
        findings = run_guardrails(
            text,
            slots[name],
            allowed_inputs(slots[name], message.data),
            category=message.category,
            **options,
            approved=approved_texts(version.parts),
            locale=message.locale or version.template.default_locale,
        )
        return [{"check": f.check, "passed": f.passed, "detail": f.detail} for f in findings]

    return check


def _apply_edits(
    session: Session, item: SignoffItem, edits: Mapping[str, str], reviewer: str
) -> None:
    check = _checker(session, item)
    updated, errors = dict(item.slots), {}
    for name, text in edits.items():
        if name not in updated:
            errors[f"slots.{name}"] = ["this message has no such slot"]
            continue
        findings = check(name, text)
        if not all(f["passed"] for f in findings):
            errors[f"slots.{name}"] = [
                f"{f['check']}: {f['detail']}" for f in findings if not f["passed"]
            ]
            continue
        updated[name] = {
            **updated[name],
            "text": text,
            "edited_by": reviewer,
            "blocked": False,
            "final_findings": findings,
        }
    if errors:
        raise ValidationFailed(errors)
    item.slots = updated
    item.edits = [*item.edits, {"by": reviewer, "at": utcnow().isoformat(), "slots": dict(edits)}]


def finding_codes(item: SignoffItem) -> list[str]:
    """The codes (`slot.check`) of the guardrail findings a person must acknowledge."""
    return sorted(
        f"{name}.{finding['check']}"
        for name, slot in item.slots.items()
        for finding in slot.get("findings") or []
        if not finding["passed"]
    )


def _acknowledge(item: SignoffItem, acknowledged: Sequence[str]) -> None:
    missing = [code for code in finding_codes(item) if code not in acknowledged]
    if missing:
        raise ValidationFailed(
            {"acknowledged": [f"acknowledge each finding first: {', '.join(missing)}"]}
        )
    item.acknowledged = finding_codes(item)


def text_digest(text: str) -> str:
    """The digest of the exact text sent for a slot (provenance)."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _finalise(session: Session, item: SignoffItem) -> None:
    """Record, per slot, the digest and the guardrail findings of the text that will be sent."""
    check: Checker | None = None
    final = {}
    for name, slot in item.slots.items():
        findings = slot.get("final_findings")
        if findings is None and slot["text"] == slot.get("generated"):
            findings = slot.get("findings") or []
        if findings is None:
            check = check or _checker(session, item)
            findings = check(name, slot["text"])
        final[name] = {**slot, "final_findings": findings, "digest": text_digest(slot["text"])}
    item.slots = final


def release(
    session: Session, item: SignoffItem, reviewer: str, comment: str, *, batch: bool
) -> None:
    blocked = [name for name, s in item.slots.items() if s.get("blocked") or s.get("text") is None]
    if blocked:
        raise Conflict(f"slot {', '.join(blocked)} was blocked by a guardrail: edit it to approve")
    _finalise(session, item)
    item.status, item.decided_by, item.decided_at = APPROVED, reviewer, utcnow()
    item.comment, item.batch = comment, batch
    decided = {"by": reviewer, "batch": batch}
    if move(session, item.message_id, Move.SIGN_OFF, detail=decided):
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == item.message_id)
            .values(done_at=None, available_at=utcnow(), leased_until=None)
        )
    elif _status(session, item.message_id) == MessageStatus.CANCELLED:
        raise Conflict(f"message {item.message_id!r} was cancelled; there is nothing to approve")
    else:  # held by a recall: the decision joins its history, and resuming releases it
        record_event(session, item.message_id, "signed_off", **decided)


def _status(session: Session, message_id: str) -> str | None:
    return session.scalar(select(Message.status).where(Message.id == message_id))


def approve(
    session: Session,
    item_id: int,
    *,
    reviewer: str,
    edits: Mapping[str, str] | None = None,
    comment: str = "",
    acknowledged: Sequence[str] = (),
) -> SignoffItem:
    """A person approves the AI text, optionally edited (edits pass the guardrails again).

    A flagged item needs each of its findings acknowledged (`finding_codes`).
    """
    item = get_item(session, item_id)
    _pending(item)
    _acknowledge(item, acknowledged)
    if edits:
        _apply_edits(session, item, edits, reviewer)
    release(session, item, reviewer, comment, batch=False)
    session.flush()
    record(
        session,
        actor=reviewer,
        action="signoff.approve",
        target_type="message",
        target=item.message_id,
        detail={
            "edited": sorted(edits or {}),
            "comment": comment,
            "acknowledged": item.acknowledged,
        },
    )
    return item


def reject(session: Session, item_id: int, *, reviewer: str, comment: str) -> SignoffItem:
    """A person rejects the AI text: the message is never sent."""
    if not comment.strip():
        raise ValidationFailed({"comment": ["say why the message is rejected"]})
    item = get_item(session, item_id)
    _pending(item)
    item.status, item.decided_by, item.decided_at, item.comment = (
        REJECTED,
        reviewer,
        utcnow(),
        comment,
    )
    _close_message(session, item.message_id, f"sign-off rejected: {comment}", Move.REJECT_SIGNOFF)
    _refuse_batches(session, item)
    session.flush()
    record(
        session,
        actor=reviewer,
        action="signoff.reject",
        target_type="message",
        target=item.message_id,
        detail={"comment": comment},
    )
    return item


def _refuse_batches(session: Session, item: SignoffItem) -> None:
    """A rejected item in an open batch's sample refuses that batch approval."""
    batches = session.scalars(
        select(SignoffBatch).where(
            SignoffBatch.template_key == item.template_key,
            SignoffBatch.version_number == item.version_number,
            SignoffBatch.status == OPEN,
        )
    )
    for batch in batches:
        if item.id in batch.sample_ids:
            batch.status, batch.decided_by, batch.decided_at = REFUSED, item.decided_by, utcnow()


def _close_message(session: Session, message_id: str, reason: str, which: Move) -> None:
    move(session, message_id, which, detail={"reason": reason}, reason=reason)


def expire(session: Session, now: datetime | None = None) -> int:
    """Pending items past their time expire; their messages are never sent."""
    moment = now or utcnow()
    stale = list(
        session.scalars(
            select(SignoffItem).where(
                SignoffItem.status == PENDING, SignoffItem.expires_at < moment
            )
        )
    )
    for item in stale:
        item.status, item.decided_at = EXPIRED, moment
        _close_message(session, item.message_id, "sign-off expired", Move.EXPIRE_SIGNOFF)
    session.flush()
    return len(stale)


def pending_count(session: Session) -> int:
    """How many messages wait for a person."""
    return int(
        session.scalar(
            select(func.count()).select_from(SignoffItem).where(SignoffItem.status == PENDING)
        )
        or 0
    )
