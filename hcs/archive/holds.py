"""Legal hold: entries, or every entry of one recipient, kept past their retention."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, exists, or_, select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.errors import EntryNotFound
from hcs.archive.lookups import recipient_lookup
from hcs.archive.models import ArchiveEntry, LegalHold
from hcs.errors import ValidationFailed
from templates_store.orm import utcnow


def is_held() -> ColumnElement[bool]:
    """SQL: an unreleased hold names the entry or its recipient."""
    live = LegalHold.released_at.is_(None)
    by_entry = exists().where(live, LegalHold.entry_id == ArchiveEntry.id)
    by_recipient = exists().where(live, LegalHold.recipient_lookup == ArchiveEntry.recipient_lookup)
    return or_(by_entry, by_recipient)


def held_entries(*where: Any) -> Subquery:
    """The ids of held entries matching `where`."""
    return select(ArchiveEntry.id).where(is_held(), *where).subquery()


def _target(
    session: Session, entry_id: int | None, recipient_key: str | None, keys: Keyring | None
) -> tuple[str, Any]:
    if (entry_id is None) == (recipient_key is None):
        raise ValidationFailed({"hold": ["name either one entry or one recipient"]})
    if entry_id is not None:
        if session.get(ArchiveEntry, entry_id) is None:
            raise EntryNotFound(f"archive entry {entry_id} does not exist")
        return "entry_id", entry_id
    return "recipient_lookup", recipient_lookup(
        session, keys or default_keyring(), str(recipient_key)
    )


def place_hold(
    session: Session,
    *,
    entry_id: int | None = None,
    recipient_key: str | None = None,
    reason: str = "",
    actor: str,
    keys: Keyring | None = None,
) -> LegalHold:
    """Exempt one entry, or every entry of one recipient, from retention. Audited."""
    column, value = _target(session, entry_id, recipient_key, keys)
    hold = LegalHold(**{column: value}, reason=reason, placed_by=actor, placed_at=utcnow())
    session.add(hold)
    session.flush()
    _record(session, "archive.hold", actor, column, value, {"hold": hold.id, "reason": reason})
    return hold


def release_hold(
    session: Session,
    *,
    entry_id: int | None = None,
    recipient_key: str | None = None,
    actor: str,
    keys: Keyring | None = None,
) -> int:
    """Release the live holds on one entry or one recipient; returns how many. Audited.

    The erasures the holds deferred are then due: `hcs.dispatch.erasure.release_hold` releases
    and carries them out, in the archive and everywhere else.
    """
    column, value = _target(session, entry_id, recipient_key, keys)
    query = select(LegalHold).where(
        getattr(LegalHold, column) == value, LegalHold.released_at.is_(None)
    )
    holds = list(session.scalars(query))
    for hold in holds:
        hold.released_by, hold.released_at = actor, utcnow()
    _record(session, "archive.release", actor, column, value, {"holds": [h.id for h in holds]})
    session.flush()
    return len(holds)


def _record(
    session: Session, action: str, actor: str, column: str, value: Any, detail: dict[str, Any]
) -> None:
    kind = "archive_entry" if column == "entry_id" else "data_subject"
    audit.record(
        session, actor=actor, action=action, target_type=kind, target=str(value), detail=detail
    )
