"""Approving the rest of a large campaign as a job: slice by slice, each one audited."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from hcs import jobs
from hcs.infrastructure.db import transaction
from hcs.jobs.runner import JobContext, Work
from hcs.signoffs import queue
from hcs.signoffs.models import PENDING

SLICE = 100


def remaining(session: Session, template: str, version: int) -> list[int]:
    """The ids of a campaign's items still pending, oldest first."""
    items = queue.list_items(session, status=PENDING, template=template)
    return [item.id for item in items if item.version_number == version]


def batch_work(
    template: str,
    version: int,
    ids: list[int],
    *,
    reviewer: str,
    rule: queue.SampleRule,
    comment: str,
    notify: Callable[[list[str]], None] | None = None,
) -> Work:
    """A job approving the items `ids` (the rest of a campaign when it started), a slice at a time.

    Each slice is one `batch_approve` in its own transaction with its audit entry, and its
    messages go to the dispatcher once it is committed. Items decided one by one meanwhile are
    left as they are; messages arriving meanwhile are not among `ids`.
    """

    def work(context: JobContext) -> None:
        approved = 0
        for start in range(0, len(ids), SLICE):
            with transaction(context.sessions) as session:
                released = queue.batch_approve(
                    session,
                    template,
                    version,
                    reviewer=reviewer,
                    rule=rule,
                    comment=comment,
                    only=set(ids[start : start + SLICE]),
                )
                approved += len(released)
                done = min(start + SLICE, len(ids))
                jobs.advance(session, context.job_id, done, step="Approving")
            if notify is not None and released:
                notify([item.message_id for item in released])
            context.rest()
        with transaction(context.sessions) as session:
            result = {"approved": approved, "template": template, "version": version}
            jobs.succeed(session, context.job_id, result)

    return work
