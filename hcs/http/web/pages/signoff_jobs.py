"""Approving the rest of a large batch from the sign-off queue as a job with its progress."""

from __future__ import annotations

from flask import current_app

from hcs.http.extensions import db_session, services
from hcs.http.web.pages.guard import person
from hcs.jobs.runner import Work
from hcs.signoffs import batches, sampling


def batch_job_work(batch_id: int, comment: str) -> tuple[str, int, Work] | None:
    """The job's title, how many messages it would approve and its work, when the rest of a
    batch is larger than the inline limit; None for a small one.

    The sample is checked first, so a refusal shows on the queue's page at once.
    """
    session = db_session()
    batch = sampling.get_batch(session, batch_id)
    ids = sampling.remaining(session, batch)
    if len(ids) <= services().settings.jobs_inline_limit:
        return None
    sampling.check(session, batch)
    work = batches.batch_work(
        batch_id,
        ids,
        reviewer=person().email,
        comment=comment,
        notify=current_app.extensions.get("hcs.dispatcher"),
    )
    title = f"Approve the rest of {batch.template_key} v{batch.version_number}"
    return title, len(ids), work
