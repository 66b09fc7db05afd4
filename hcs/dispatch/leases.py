"""Named leases in the database: periodic work that one worker at a time does.

Housekeeping (sealing, settling parked reports, expiring sign-offs, purging idempotency keys)
must not run in every worker at once. A worker runs it only while it holds the `housekeeping`
lease; it keeps renewing it while alive, and when it dies the lease expires and another worker
takes over. Expiry is read from the database's clock, so hosts' clocks do not matter; each
taking raises the lease's token, so a holder can tell it was taken over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from hcs.infrastructure.clock import db_now
from templates_store.orm import Base

HOUSEKEEPING = "housekeeping"


class WorkerLease(Base):
    """Who holds one named piece of periodic work, until when, and how often it changed hands."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[int] = mapped_column(default=0, server_default="0")
    leased_until: Mapped[datetime | None]


def hold(session: Session, name: str, *, owner: str, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `owner` for `ttl`; false while another holds it.

    The lease's row stays locked until the caller's transaction ends: while its holder works
    in that transaction nobody else takes it, and on PostgreSQL nobody waits for it either
    (a row locked by a holder at work is skipped, and the lease taken to be held).
    """
    if _busy(session, name):
        return False
    now = db_now(session)
    renewed = session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name)
        .where(
            or_(
                WorkerLease.owner == owner,
                WorkerLease.leased_until.is_(None),
                WorkerLease.leased_until < now,
            )
        )
        .values(
            leased_until=now + ttl,
            # A new holder raises the token; the same holder renewing keeps it.
            token=case(
                (WorkerLease.owner == owner, WorkerLease.token), else_=WorkerLease.token + 1
            ),
            owner=owner,
        )
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(WorkerLease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(WorkerLease(name=name, owner=owner, token=1, leased_until=now + ttl))
    except IntegrityError:  # another worker made it first: theirs
        return False
    return True


def _busy(session: Session, name: str) -> bool:
    """PostgreSQL: whether another transaction holds the lease's row now (a holder at work)."""
    if session.get_bind().dialect.name != "postgresql":
        return False  # SQLite: one writer at a time, the write lock queues the others
    free = session.scalar(
        select(WorkerLease.name).where(WorkerLease.name == name).with_for_update(skip_locked=True)
    )
    return free is None and session.get(WorkerLease, name) is not None
