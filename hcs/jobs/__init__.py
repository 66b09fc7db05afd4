"""Jobs: long work (imports, exports, batch approvals) with its progress, owned by one person.

A job's row is created and committed by the request that starts it; the work then runs on a
thread (`hcs.jobs.runner`) and moves the row along in short transactions of its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.jobs.models import FAILED, QUEUED, RUNNING, SUCCEEDED, Job
from templates_store.errors import NotFound
from templates_store.orm import utcnow

# A job not heard from for this long died with its process (a restart, a crash).
STALLED_AFTER = timedelta(minutes=10)


def start_job(session: Session, *, kind: str, owner: str, title: str, total: int) -> Job:
    """A queued job of `total` steps for `owner`; commit it before its work starts."""
    job = Job(kind=kind, owner=owner, title=title, total=total, status=QUEUED, result={})
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int, *, owner: str) -> Job:
    """One of `owner`'s jobs; another person's is as good as missing."""
    job = session.get(Job, job_id)
    if job is None or job.owner.lower() != owner.lower():
        raise NotFound(f"no job {job_id} of yours")
    return job


def advance(session: Session, job_id: int, done: int, *, step: str | None = None) -> Job:
    """Record how far a running job got, and what it is doing now."""
    job = session.get_one(Job, job_id)
    job.status, job.done, job.updated_at = RUNNING, done, utcnow()
    if step is not None:
        job.step = step
    session.flush()
    return job


def succeed(
    session: Session,
    job_id: int,
    result: dict[str, Any],
    *,
    output: bytes | None = None,
    output_name: str = "",
) -> Job:
    """The job finished: its result, and the file it made if any."""
    job = session.get_one(Job, job_id)
    job.status, job.done, job.result, job.step = SUCCEEDED, job.total, result, ""
    job.output, job.output_name = output, output_name
    job.updated_at = job.finished_at = utcnow()
    session.flush()
    return job


def fail(session: Session, job_id: int, error: str, *, result: dict[str, Any] | None = None) -> Job:
    """The job stopped: what went wrong, and what it did before (`result`)."""
    job = session.get_one(Job, job_id)
    job.status, job.error, job.result = FAILED, error, result or {}
    job.updated_at = job.finished_at = utcnow()
    session.flush()
    return job


def is_stalled(job: Job) -> bool:
    """Unfinished and silent for longer than any step takes: its process is gone."""
    return not job.is_finished and utcnow() - job.updated_at > STALLED_AFTER


def recent_jobs(session: Session, owner: str, *, limit: int = 10) -> list[Job]:
    """The owner's latest jobs, newest first."""
    query = select(Job).where(Job.owner == owner).order_by(Job.id.desc()).limit(limit)
    return list(session.scalars(query))


__all__ = [
    "FAILED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "Job",
    "advance",
    "fail",
    "get_job",
    "is_stalled",
    "recent_jobs",
    "start_job",
    "succeed",
]
