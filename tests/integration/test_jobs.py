"""Jobs: who owns them, their progress, and how the runner records how they ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hcs import jobs
from hcs.infrastructure.db import session_factory, transaction
from hcs.jobs.runner import JobContext, JobRunner
from templates_store.errors import NotFound, ValidationFailed
from templates_store.orm import utcnow


def _started(engine: Engine, total: int = 3) -> int:
    with transaction(session_factory(engine)) as session:
        return jobs.start_job(
            session, kind="import", owner="ana@example.com", title="Import", total=total
        ).id


def _job(engine: Engine, job_id: int) -> jobs.Job:
    with transaction(session_factory(engine)) as session:
        return jobs.get_job(session, job_id, owner="ana@example.com")


def test_a_job_is_only_found_by_the_person_who_started_it(session: Session) -> None:
    job = jobs.start_job(session, kind="export", owner="ana@example.com", title="E", total=2)
    assert jobs.get_job(session, job.id, owner="ANA@example.com") is job
    with pytest.raises(NotFound):
        jobs.get_job(session, job.id, owner="lee@example.com")
    with pytest.raises(NotFound):
        jobs.get_job(session, job.id + 1000, owner="ana@example.com")


def test_progress_counts_up_to_a_hundred_percent(session: Session) -> None:
    job = jobs.start_job(session, kind="export", owner="ana@example.com", title="E", total=8)
    assert (job.status, job.percent) == ("queued", 0)
    jobs.advance(session, job.id, 2, step="Reading versions")
    assert (job.status, job.step, job.percent) == ("running", "Reading versions", 25)
    jobs.succeed(session, job.id, {"folders": 8}, output=b"zip", output_name="all.zip")
    assert (job.status, job.done, job.percent, job.is_finished) == ("succeeded", 8, 100, True)


def test_a_job_silent_for_longer_than_any_step_is_stalled(session: Session) -> None:
    job = jobs.start_job(session, kind="import", owner="ana@example.com", title="I", total=1)
    assert not jobs.is_stalled(job)
    job.updated_at = utcnow() - jobs.STALLED_AFTER - timedelta(seconds=1)
    assert jobs.is_stalled(job)
    jobs.fail(session, job.id, "stopped")
    assert not jobs.is_stalled(job)


def test_the_runner_records_progress_and_the_work_finishes_the_job(engine: Engine) -> None:
    job_id, seen = _started(engine), []

    def work(context: JobContext) -> None:
        for done in (1, 2, 3):
            context.report(done, step="Counting", now=True)
            seen.append(_job(engine, job_id).done)
        with transaction(context.sessions) as session:
            jobs.succeed(session, context.job_id, {"counted": 3})

    runner = JobRunner(session_factory(engine))
    runner.launch(job_id, work)
    assert runner.wait(10)
    finished = _job(engine, job_id)
    assert seen == [1, 2, 3]
    assert (finished.status, finished.result, finished.finished_at is not None) == (
        "succeeded",
        {"counted": 3},
        True,
    )


def test_a_refusal_fails_the_job_with_every_error_kept(engine: Engine) -> None:
    job_id = _started(engine)

    def work(context: JobContext) -> None:
        raise ValidationFailed({"a/sms.body.en.txt": ["line 1: unexpected end"], "b": ["bad"]})

    runner = JobRunner(session_factory(engine))
    runner.launch(job_id, work)
    assert runner.wait(10)
    failed = _job(engine, job_id)
    assert failed.status == "failed" and failed.error.startswith("a/sms.body.en.txt")
    assert failed.result["errors"] == {
        "a/sms.body.en.txt": ["line 1: unexpected end"],
        "b": ["bad"],
    }


def test_an_unexpected_error_fails_the_job_and_says_so(engine: Engine) -> None:
    job_id = _started(engine)

    def work(context: JobContext) -> None:
        raise RuntimeError("the disk is full")

    runner = JobRunner(session_factory(engine))
    runner.launch(job_id, work)
    assert runner.wait(10)
    failed = _job(engine, job_id)
    assert failed.status == "failed"
    assert failed.error == "an unexpected error stopped the job (RuntimeError)"
