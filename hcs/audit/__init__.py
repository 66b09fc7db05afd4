"""The audit log: every governance action, appended and sealed (see `hcs.sealing`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Select

from hcs.sealing import SealedMixin, jsonable
from templates_store.orm import Base, utcnow

SYSTEM = "system"


class AuditEntry(SealedMixin, Base):
    """One governance action: who did what to which thing, and when, with before and after."""

    __tablename__ = "audit_entries"
    seal_log: ClassVar[str] = "audit"
    hashed_columns: ClassVar[tuple[str, ...]] = (
        "at",
        "actor",
        "action",
        "target_type",
        "target",
        "before",
        "after",
        "detail",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A user's email, "apikey:<name>" or "system".
    actor: Mapped[str] = mapped_column(String(300), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(300), index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.target!r} by {self.actor}>"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (flushed, never committed)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        target_type=target_type,
        target=target,
        before=None if before is None else jsonable(dict(before)),
        after=None if after is None else jsonable(dict(after)),
        detail=jsonable(dict(detail or {})),
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Entries matching every given filter, newest first, and how many match in all."""
    query = _filtered(select(AuditEntry), actor, action, target_type, target, since, until)
    total = session.scalar(query.with_only_columns(func.count(AuditEntry.id))) or 0
    page = query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def _filtered(
    query: Select[tuple[AuditEntry]],
    actor: str | None,
    action: str | None,
    target_type: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[tuple[AuditEntry]]:
    equal = {"actor": actor, "action": action, "target_type": target_type, "target": target}
    for name, value in equal.items():
        if value is not None:
            query = query.where(getattr(AuditEntry, name) == value)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query
