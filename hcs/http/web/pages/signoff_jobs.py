"""Approving the rest of a large campaign from the sign-off queue as a job with its progress."""

from __future__ import annotations

from flask import current_app

from hcs.http.extensions import db_session, services
from hcs.http.web.pages.guard import person
from hcs.jobs.runner import Work
from hcs.signoffs import batches, queue


def sample_rule() -> queue.SampleRule:
    """The sample a person decides one by one before approving the rest, from the settings."""
    settings = services().settings
    return queue.SampleRule(settings.signoff_sample_min, settings.signoff_sample_percent)


def batch_job_work(template: str, version: int, comment: str) -> tuple[int, Work] | None:
    """How many messages a job would approve, and its work, when the rest of a campaign is
    larger than the inline limit; None for a small one.

    The sample rule is checked first, so a refusal shows on the queue's page at once.
    """
    session = db_session()
    ids = batches.remaining(session, template, version)
    if len(ids) <= services().settings.jobs_inline_limit:
        return None
    queue.check_batch(session, template, version, reviewer=person().email, rule=sample_rule())
    work = batches.batch_work(
        template,
        version,
        ids,
        reviewer=person().email,
        rule=sample_rule(),
        comment=comment,
        notify=current_app.extensions.get("hcs.dispatcher"),
    )
    return len(ids), work
