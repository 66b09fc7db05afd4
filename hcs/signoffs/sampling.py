"""Batch approval by acceptance sampling: the server draws the sample, a person decides each one."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.messages.models import Message
from hcs.signoffs.models import (
    APPROVED,
    BATCH_APPROVED,
    OPEN,
    PENDING,
    REFUSED,
    REJECTED,
    SignoffBatch,
    SignoffItem,
)
from hcs.signoffs.queue import release
from templates_store.errors import Conflict, NotFound
from templates_store.orm import utcnow

# ISO 2859-1 / ANSI Z1.4, general inspection level II, single sampling, normal inspection:
# (largest lot size, sample size code letter, sample size). Acceptance number 0: one rejected
# item in the sample refuses the lot.
PLAN: tuple[tuple[int, str, int], ...] = (
    (8, "A", 2),
    (15, "B", 3),
    (25, "C", 5),
    (50, "D", 8),
    (90, "E", 13),
    (150, "F", 20),
    (280, "G", 32),
    (500, "H", 50),
    (1200, "J", 80),
    (3200, "K", 125),
    (10000, "L", 200),
    (35000, "M", 315),
    (150000, "N", 500),
    (500000, "P", 800),
)
LARGEST = ("Q", 1250)
_RANDOM = random.SystemRandom()


# Tightened inspection after a rejection: the next code letter's sample (with acceptance number
# 0, ISO 2859-1's tightened plans move one letter on), until this many sets in a row passed.
NORMAL, TIGHTENED = "normal", "tightened"
BACK_TO_NORMAL = 5


def plan_for(lot: int, minimum: int, *, tightened: bool = False) -> dict[str, Any]:
    """The sampling plan for `lot` clean items: code letter, sample size (≥ minimum, ≤ lot)."""
    index = next((i for i, (top, _, _) in enumerate(PLAN) if lot <= top), len(PLAN))
    index += int(tightened)
    code, size = (PLAN[index][1], PLAN[index][2]) if index < len(PLAN) else LARGEST
    return {
        "standard": "ISO 2859-1 / ANSI Z1.4",
        "inspection_level": "II",
        "inspection": TIGHTENED if tightened else NORMAL,
        "acceptance": 0,
        "code": code,
        "lot": lot,
        "table_sample": size,
        "minimum": minimum,
        "sample": min(lot, max(minimum, size)),
    }


def inspection(decided: list[str]) -> str:
    """Normal or tightened, from the statuses of the version's decided sets, newest first."""
    for passed, status in enumerate(decided):
        if status == REFUSED:
            return TIGHTENED if passed < BACK_TO_NORMAL else NORMAL
    return NORMAL


def _decided(session: Session, template: str, version: int) -> list[str]:
    return list(
        session.scalars(
            select(SignoffBatch.status)
            .where(
                SignoffBatch.template_key == template,
                SignoffBatch.version_number == version,
                SignoffBatch.status.in_((BATCH_APPROVED, REFUSED)),
            )
            .order_by(SignoffBatch.id.desc())
            .limit(BACK_TO_NORMAL + 1)
        )
    )


def _set(
    session: Session, template: str, version: int, up_to: datetime, message_batch: str | None
) -> list[SignoffItem]:
    query = (
        select(SignoffItem)
        .where(
            SignoffItem.template_key == template,
            SignoffItem.version_number == version,
            SignoffItem.status == PENDING,
            SignoffItem.created_at <= up_to,
        )
        .order_by(SignoffItem.id)
    )
    if message_batch is not None:
        query = query.join(Message, Message.id == SignoffItem.message_id).where(
            Message.batch_id == message_batch
        )
    return list(session.scalars(query))


def draw(
    session: Session,
    template: str,
    version: int,
    *,
    reviewer: str,
    minimum: int,
    up_to: datetime | None = None,
    message_batch: str | None = None,
) -> SignoffBatch:
    """Fix the set (pending items up to a moment, or of one send batch) and draw its sample."""
    moment = min(up_to or utcnow(), utcnow())
    items = _set(session, template, version, moment, message_batch)
    if not items:
        raise Conflict(f"nothing of {template} v{version} waits for sign-off")
    clean = [item.id for item in items if not item.is_flagged]
    tightened = inspection(_decided(session, template, version)) == TIGHTENED
    plan = plan_for(len(clean), minimum, tightened=tightened)
    batch = SignoffBatch(
        template_key=template,
        version_number=version,
        up_to=moment,
        item_ids=[item.id for item in items],
        sample_ids=sorted(_RANDOM.sample(clean, plan["sample"])),
        plan=plan,
        status=OPEN,
        drawn_by=reviewer,
        drawn_at=utcnow(),
    )
    session.add(batch)
    session.flush()
    record(
        session,
        actor=reviewer,
        action="signoff.sample_drawn",
        target_type="signoff_batch",
        target=str(batch.id),
        detail={"set": batch.item_ids, "sample": batch.sample_ids, "plan": plan},
    )
    return batch


def get_batch(session: Session, batch_id: int) -> SignoffBatch:
    """One batch, or NotFound."""
    batch = session.get(SignoffBatch, batch_id)
    if batch is None:
        raise NotFound(f"no sign-off batch {batch_id}")
    return batch


def _items(session: Session, ids: Collection[int]) -> list[SignoffItem]:
    found = session.scalars(select(SignoffItem).where(SignoffItem.id.in_(list(ids))))
    return sorted(found, key=lambda item: item.id)


def counts(batch: SignoffBatch, item: SignoffItem) -> bool:
    """Whether an item's decision counts for the sample: one by one, after the draw."""
    return (
        item.status in (APPROVED, REJECTED)
        and not item.batch
        and item.decided_at is not None
        and item.decided_at >= batch.drawn_at
    )


def sample_decisions(session: Session, batch: SignoffBatch) -> list[dict[str, Any]]:
    """Each drawn item with its decision, and whether that decision counts."""
    return [
        {
            "id": item.id,
            "status": item.status,
            "by": item.decided_by,
            "at": item.decided_at.isoformat() if item.decided_at else None,
            "counts": counts(batch, item),
        }
        for item in _items(session, batch.sample_ids)
    ]


def check(session: Session, batch: SignoffBatch) -> list[dict[str, Any]]:
    """Refuse unless every drawn item was approved one by one after the draw; the decisions."""
    decisions = sample_decisions(session, batch)
    rejected = [d["id"] for d in decisions if d["status"] == REJECTED]
    if batch.status == REFUSED or rejected:
        raise Conflict(
            f"batch {batch.id} is refused: item(s) {rejected} of its sample were rejected; "
            "decide the rest one by one or draw a new sample"
        )
    if batch.status != OPEN:
        raise Conflict(f"batch {batch.id} is {batch.status}")
    waiting = [d["id"] for d in decisions if not d["counts"]]
    if waiting:
        raise Conflict(f"decide the sampled item(s) {waiting} one by one first")
    flagged = [
        i.id for i in _items(session, batch.item_ids) if i.is_flagged and i.status == PENDING
    ]
    if flagged:
        raise Conflict(f"decide the flagged message(s) one by one first: items {flagged}")
    return decisions


def remaining(session: Session, batch: SignoffBatch) -> list[int]:
    """The ids of the batch's set still pending, oldest first."""
    return [i.id for i in _items(session, batch.item_ids) if i.status == PENDING]


def approve_batch(
    session: Session,
    batch_id: int,
    *,
    reviewer: str,
    comment: str = "",
    only: Collection[int] | None = None,
) -> list[SignoffItem]:
    """Approve the set's pending items once its sample passed; `only` limits it to a slice."""
    batch = get_batch(session, batch_id)
    decisions = check(session, batch)
    pending = [i for i in _items(session, batch.item_ids) if i.status == PENDING]
    released = [i for i in pending if only is None or i.id in only]
    for item in released:
        release(session, item, reviewer, comment, batch=True)
    if len(released) == len(pending):
        batch.status, batch.decided_by, batch.decided_at = BATCH_APPROVED, reviewer, utcnow()
    session.flush()
    record(
        session,
        actor=reviewer,
        action="signoff.batch_approve",
        target_type="signoff_batch",
        target=str(batch.id),
        detail={
            "template": f"{batch.template_key} v{batch.version_number}",
            "set": batch.item_ids,
            "sample": decisions,
            "plan": batch.plan,
            "approved": len(released),
            "comment": comment,
        },
    )
    return released


def open_batches(session: Session) -> list[SignoffBatch]:
    """The batches still waiting for their sample or their approval, oldest first."""
    return list(
        session.scalars(
            select(SignoffBatch).where(SignoffBatch.status == OPEN).order_by(SignoffBatch.id)
        )
    )
