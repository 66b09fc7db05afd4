"""Approving the rest of a large campaign as a job: slice by slice, each one audited."""

from __future__ import annotations

from collections.abc import Callable

from hcs import jobs
from hcs.infrastructure.db import transaction
from hcs.jobs.runner import JobContext, Work
from hcs.signoffs import sampling

SLICE = 100


def batch_work(
    batch_id: int,
    ids: list[int],
    *,
    reviewer: str,
    comment: str,
    notify: Callable[[list[str]], None] | None = None,
) -> Work:
    """A job approving the items `ids` (the rest of a batch's set), a slice at a time.

    Each slice is one `approve_batch` in its own transaction with its audit entry, and its
    messages go to the dispatcher once it is committed. Items decided one by one meanwhile are
    left as they are; messages arriving meanwhile are not among `ids`.
    """

    def work(context: JobContext) -> None:
        approved = 0
        for start in range(0, len(ids), SLICE):
            with transaction(context.sessions) as session:
                released = sampling.approve_batch(
                    session,
                    batch_id,
                    reviewer=reviewer,
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
            batch = sampling.get_batch(session, batch_id)
            result = {
                "approved": approved,
                "batch": batch_id,
                "template": batch.template_key,
                "version": batch.version_number,
            }
            jobs.succeed(session, context.job_id, result)

    return work
