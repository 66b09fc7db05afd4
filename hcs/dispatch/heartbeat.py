"""Workers' heartbeats: each worker process writes when it last looped, for `/readyz`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from templates_store.orm import Base, utcnow

# A worker silent for longer than this is counted as gone.
STALE_AFTER = timedelta(minutes=2)


class WorkerBeat(Base):
    """The last time one worker process (host:pid) was alive."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)


def beat(session: Session, worker: str, *, now: datetime | None = None) -> None:
    """Record that `worker` is alive now."""
    moment = now or utcnow()
    changed = session.execute(
        update(WorkerBeat).where(WorkerBeat.worker == worker).values(beat_at=moment)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.add(WorkerBeat(worker=worker, beat_at=moment))
    # Forget workers gone for a day, so the table stays the size of the fleet.
    session.execute(delete(WorkerBeat).where(WorkerBeat.beat_at < moment - timedelta(days=1)))


@dataclass(frozen=True)
class Pulse:
    """How many workers beat recently, and how long ago the freshest did."""

    count: int
    last_beat: datetime | None


def pulse(session: Session, *, now: datetime | None = None) -> Pulse:
    """The workers seen within `STALE_AFTER`, and the last beat of any."""
    moment = now or utcnow()
    fresh = WorkerBeat.beat_at >= moment - STALE_AFTER
    count = session.scalar(select(func.count()).select_from(WorkerBeat).where(fresh))
    return Pulse(int(count or 0), session.scalar(select(func.max(WorkerBeat.beat_at))))
