"""The sign-off queue: approve (optionally editing), reject, batch-approve after a sample."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hcs.ai.guardrails import passes, run_guardrails
from hcs.ai.personal_data import approved_texts
from hcs.ai.slots import slot_from
from hcs.audit import record
from hcs.governance.policies import policy_for
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import move, record_event
from hcs.messages.status import Move
from hcs.signoffs.generation import allowed_inputs
from hcs.signoffs.models import APPROVED, EXPIRED, PENDING, REJECTED, SignoffItem
from templates_store.errors import Conflict, NotFound, ValidationFailed
from templates_store.models import TemplateVersion
from templates_store.orm import utcnow

DEFAULT_TTL = timedelta(hours=72)


@dataclass(frozen=True)
class SampleRule:
    """Batch approval needs at least `minimum` messages, or `percent` of the campaign if more."""

    minimum: int = 5
    percent: float = 5.0

    def required(self, campaign_size: int) -> int:
        """How many messages a reviewer must decide one by one first."""
        return min(campaign_size, max(self.minimum, math.ceil(campaign_size * self.percent / 100)))


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


def _apply_edits(
    session: Session, item: SignoffItem, edits: Mapping[str, str], reviewer: str
) -> None:
    message = session.get_one(Message, item.message_id)
    version = session.get_one(TemplateVersion, message.version_id)
    slots = {d["name"]: slot_from(d) for d in version.ai_slots}
    options = policy_for(session, message.category).guardrail_options()
    updated, errors = dict(item.slots), {}
    for name, text in edits.items():
        if name not in slots:
            errors[f"slots.{name}"] = ["this message has no such slot"]
            continue
        inputs = allowed_inputs(slots[name], message.data)
        findings = run_guardrails(
            text,
            slots[name],
            inputs,
            category=message.category,
            **options,
            approved=approved_texts(version.parts),
            locale=message.locale or version.template.default_locale,
        )
        if not passes(findings):
            errors[f"slots.{name}"] = [f"{f.check}: {f.detail}" for f in findings if not f.passed]
            continue
        updated[name] = {**updated[name], "text": text, "edited_by": reviewer, "blocked": False}
    if errors:
        raise ValidationFailed(errors)
    item.slots = updated
    item.edits = [*item.edits, {"by": reviewer, "at": utcnow().isoformat(), "slots": dict(edits)}]


def _release(
    session: Session, item: SignoffItem, reviewer: str, comment: str, *, batch: bool
) -> None:
    blocked = [name for name, s in item.slots.items() if s.get("blocked") or s.get("text") is None]
    if blocked:
        raise Conflict(f"slot {', '.join(blocked)} was blocked by a guardrail: edit it to approve")
    item.status, item.decided_by, item.decided_at = APPROVED, reviewer, utcnow()
    item.comment, item.batch = comment, batch
    decided = {"by": reviewer, "batch": batch}
    if move(session, item.message_id, Move.SIGN_OFF, detail=decided):
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == item.message_id)
            .values(done_at=None, available_at=utcnow(), leased_until=None)
        )
    else:  # held by a recall: the decision joins its history, and resuming releases it
        record_event(session, item.message_id, "signed_off", **decided)


def approve(
    session: Session,
    item_id: int,
    *,
    reviewer: str,
    edits: Mapping[str, str] | None = None,
    comment: str = "",
) -> SignoffItem:
    """A person approves the AI text, optionally edited (edits pass the guardrails again)."""
    item = get_item(session, item_id)
    _pending(item)
    if edits:
        _apply_edits(session, item, edits, reviewer)
    _release(session, item, reviewer, comment, batch=False)
    session.flush()
    record(
        session,
        actor=reviewer,
        action="signoff.approve",
        target_type="message",
        target=item.message_id,
        detail={"edited": sorted(edits or {}), "comment": comment},
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


def _close_message(session: Session, message_id: str, reason: str, which: Move) -> None:
    move(session, message_id, which, detail={"reason": reason}, reason=reason)


def _campaign(session: Session, template: str, version: int) -> list[SignoffItem]:
    return list(
        session.scalars(
            select(SignoffItem)
            .where(SignoffItem.template_key == template, SignoffItem.version_number == version)
            .order_by(SignoffItem.id)
        )
    )


def check_batch(
    session: Session, template: str, version: int, *, reviewer: str, rule: SampleRule = SampleRule()
) -> int:
    """Refuse a batch approval before its sample and flagged messages were decided one by one.

    Returns the size of the sample the rule asks for.
    """
    return _check_sample(_campaign(session, template, version), reviewer, rule)


def _check_sample(items: list[SignoffItem], reviewer: str, rule: SampleRule) -> int:
    decided_by_me = [i for i in items if i.decided_by == reviewer and not i.batch]
    needed = rule.required(len(items))
    flagged_open = [i.id for i in items if i.is_flagged and i.status == PENDING]
    if len(decided_by_me) < needed:
        raise Conflict(
            f"review {needed - len(decided_by_me)} more message(s) one by one first "
            f"(a sample of {needed} of {len(items)})"
        )
    if flagged_open:
        raise Conflict(f"decide the flagged message(s) one by one first: items {flagged_open}")
    return needed


def batch_approve(
    session: Session,
    template: str,
    version: int,
    *,
    reviewer: str,
    rule: SampleRule = SampleRule(),
    comment: str = "",
    only: Collection[int] | None = None,
) -> list[SignoffItem]:
    """Approve a campaign's remaining messages, once its sample and flagged ones were decided.

    With `only`, just those of the remaining items: a job approves a large campaign in slices.
    """
    items = _campaign(session, template, version)
    needed = _check_sample(items, reviewer, rule)
    released = [i for i in items if i.status == PENDING and (only is None or i.id in only)]
    for item in released:
        _release(session, item, reviewer, comment, batch=True)
    session.flush()
    record(
        session,
        actor=reviewer,
        action="signoff.batch_approve",
        target_type="template",
        target=f"{template} v{version}",
        detail={"approved": len(released), "sample": needed},
    )
    return released


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
