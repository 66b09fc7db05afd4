"""Retention per category: past it, an entry's payload is deleted unless the entry is held.

Each entry's `retain_until` is fixed when it is archived, from the policy in force then (the
defaults below, overridden per category by an admin with `set_retention`, audited), and sealed
with the entry: changing the policy later, or the environment, never shortens what is archived.
`HCS_ARCHIVE_RETENTION` only seeds the policy of a new installation (`hcs init`).

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
from hcs.archive.models import PURGED, ArchiveEntry, ArchiveEvent, ArchivePayload, RetentionRule
from hcs.errors import ValidationFailed
from templates_store.models import CATEGORIES
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


def policy_in_force(session: Session) -> dict[str, timedelta]:
    """The retention period per category now: the defaults, overridden by the admin's rules."""
    periods = {category: timedelta(days=n) for category, n in DEFAULT_RETENTION_DAYS.items()}
    for rule in session.scalars(select(RetentionRule)):
        periods[rule.category] = timedelta(days=rule.days)
    return periods


def retain_until(periods: Mapping[str, timedelta], category: str, sent_at: datetime) -> datetime:
    """When an entry sent at `sent_at` may be purged; an unknown category keeps the longest."""
    return sent_at + periods.get(category, max(periods.values()))


def set_retention(session: Session, category: str, days: int, *, actor: str) -> RetentionRule:
    """Set how long entries archived from now on are kept; earlier entries keep theirs. Audited."""
    if category not in CATEGORIES:
        raise ValidationFailed({"category": [f"must be one of {', '.join(CATEGORIES)}"]})
    if days < 0:
        raise ValidationFailed({"days": ["must be zero or more"]})
    rule = session.get(RetentionRule, category)
    before = policy_in_force(session).get(category)
    if rule is None:
        rule = RetentionRule(category=category, days=days, set_by=actor)
        session.add(rule)
    rule.days, rule.set_by, rule.set_at = days, actor, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="archive.retention",
        target_type="retention",
        target=category,
        before=None if before is None else {"days": before.days},
        after={"days": days},
    )
    return rule


def seed_retention(session: Session, spec: str, *, actor: str) -> int:
    """A new installation's policy from `HCS_ARCHIVE_RETENTION`; nothing once any rule exists."""
    if not spec or session.scalar(select(RetentionRule.category).limit(1)) is not None:
        return 0
    overrides = {item.partition("=")[0].strip() for item in spec.split(",") if item.strip()}
    policy = retention_policy(spec)
    for category in sorted(overrides):
        set_retention(session, category, policy[category].days, actor=actor)
    return len(overrides)


def _legacy_expired(now: datetime) -> list[ColumnElement[bool]]:
    # Entries archived before retention was fixed: the built-in defaults, never shorter.
    return [
        (ArchiveEntry.category == category)
        & (ArchiveEntry.sent_at < now - timedelta(days=days))
        & ArchiveEntry.retain_until.is_(None)
        for category, days in DEFAULT_RETENTION_DAYS.items()
    ]


def due_for_purge(session: Session, now: datetime, limit: int = 500) -> list[tuple[int, str]]:
    """Ids and categories of entries past their own retention date, with a payload, not held."""
    expired = [ArchiveEntry.retain_until < now, *_legacy_expired(now)]
    query = (
        select(ArchiveEntry.id, ArchiveEntry.category)
        .join(ArchivePayload, ArchivePayload.entry_id == ArchiveEntry.id)
        .where(_any(expired), not_(is_held()))
        .order_by(ArchiveEntry.id)
        .limit(limit)
    )
    return [(row.id, row.category) for row in session.execute(query)]


def earliest_purge(entry: ArchiveEntry) -> datetime:
    """The first moment a purge of this entry's payload is legitimate."""
    if entry.retain_until is not None:
        return entry.retain_until
    days = DEFAULT_RETENTION_DAYS.get(entry.category, max(DEFAULT_RETENTION_DAYS.values()))
    return entry.sent_at + timedelta(days=days)


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


def purge(session: Session, *, actor: str, now: datetime | None = None) -> dict[str, int]:
    """Delete the payloads of entries past their own date (not held); counts per category.

    Each purge appends a `purged` event to its entry (sealed with the log). Audited.
    """
    now = now or utcnow()
    purged: Counter[str] = Counter()
    first = last = None
    while batch := due_for_purge(session, now):
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
