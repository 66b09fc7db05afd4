"""Retention per category: past it, an entry's payload is deleted unless the entry is held.

The sealed entry stays, with its clear fields and the digest of the payload it had, so the chain
still verifies and the entry still proves what was sent when, to whom (by lookup), from which
version. Deleting the payload deletes the entry's wrapped key too: its delivery events' details,
encrypted under that key, become unreadable with it. Each purge appends a sealed `purged` event
to the entry, so a payload missing without one is tampering.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, false, not_, or_, select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.archive.holds import is_held
from hcs.archive.models import PURGED, ArchiveEntry, ArchiveEvent, ArchivePayload
from hcs.errors import ValidationFailed
from templates_store.orm import utcnow

DEFAULT_RETENTION_DAYS = {
    "transactional": 7 * 365 + 2,
    "service": 2 * 365,
    "marketing": 365,
    "sensitive": 7 * 365 + 2,
}


def retention_policy(spec: str = "") -> dict[str, timedelta]:
    """The defaults, overridden by `category=days,...` (`HCS_ARCHIVE_RETENTION`)."""
    days = dict(DEFAULT_RETENTION_DAYS)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        category, _, value = item.partition("=")
        if not value.strip().isdigit():
            problem = f"{item!r} is not category=days"
            raise ValidationFailed({"HCS_ARCHIVE_RETENTION": [problem]})
        days[category.strip()] = int(value)
    return {category: timedelta(days=n) for category, n in days.items()}


def due_for_purge(
    session: Session, policy: Mapping[str, timedelta], now: datetime, limit: int = 500
) -> list[tuple[int, str]]:
    """Ids and categories of entries past retention, with a payload, not held; oldest first."""
    expired = [
        (ArchiveEntry.category == category) & (ArchiveEntry.sent_at < now - period)
        for category, period in policy.items()
    ]
    query = (
        select(ArchiveEntry.id, ArchiveEntry.category)
        .join(ArchivePayload, ArchivePayload.entry_id == ArchiveEntry.id)
        .where(_any(expired), not_(is_held()))
        .order_by(ArchiveEntry.id)
        .limit(limit)
    )
    return [(row.id, row.category) for row in session.execute(query)]


def _any(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*conditions) if conditions else false()


def _record_purged(session: Session, ids: list[int], now: datetime) -> None:
    # A sealed event per entry: verify then tells a purge from a payload deleted behind our back.
    session.add_all(
        ArchiveEvent(
            archive_entry_id=entry_id,
            kind=PURGED,
            at=now,
            provider="hcs",
            detail=None,
            recorded_at=now,
        )
        for entry_id in ids
    )
    session.flush()


def purge(
    session: Session,
    *,
    actor: str,
    policy: Mapping[str, timedelta] | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Delete the payloads of entries past retention (not held); counts per category. Audited."""
    policy = retention_policy() if policy is None else policy
    now = now or utcnow()
    purged: Counter[str] = Counter()
    first = last = None
    while batch := due_for_purge(session, policy, now):
        ids = [entry_id for entry_id, _ in batch]
        session.execute(delete(ArchivePayload).where(ArchivePayload.entry_id.in_(ids)))
        _record_purged(session, ids, now)
        purged.update(category for _, category in batch)
        first, last = first or ids[0], ids[-1]
    detail = {
        "entries": sum(purged.values()),
        "by_category": dict(purged),
        "first_id": first,
        "last_id": last,
    }
    audit.record(
        session,
        actor=actor,
        action="archive.purge",
        target_type="archive",
        target="retention",
        detail=detail,
    )
    return dict(purged)
