"""Long work in the background: a job's page, its progress (polled by htmx), its download.

Jobs run on threads of the web process (`hcs run`), one runner per app; their rows, progress
and results are in the database, so any process can show them. Only the person who started a
job sees it: for anyone else it does not exist (404).
"""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from hcs import jobs
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.jobs.runner import JobRunner, Work


@bp.record_once
def _runner_for(state: BlueprintSetupState) -> None:
    """Each app gets its job runner, on its own sessions, when the pages are registered."""
    state.app.extensions["hcs.jobs"] = JobRunner(state.app.extensions["hcs"].sessions)


def runner() -> JobRunner:
    """The current app's job runner."""
    return current_app.extensions["hcs.jobs"]  # type: ignore[no-any-return]


def launch(job_id: int, work: Work) -> ResponseReturnValue:
    """Start the work of a job the view has committed; the answer is the job's page."""
    runner().launch(job_id, work)
    return redirect(url_for("pages.job_page", job_id=job_id))


def draft_url(label: str) -> str:
    """The editor of a draft an import made: `payment-due v3`, `_blocks/footer v2`."""
    folder, _, number = label.rpartition(" v")
    for plural in ("blocks", "themes"):
        if folder.startswith(f"_{plural}/"):
            key = folder.removeprefix(f"_{plural}/")
            return url_for("pages.component_edit", plural=plural, key=key, number=int(number))
    return url_for("pages.edit", key=folder, number=int(number))


def _shown(template: str, job: jobs.Job) -> str:
    return render_template(template, job=job, stalled=jobs.is_stalled(job), draft_url=draft_url)


@bp.get("/jobs/<int:job_id>")
@allow("read")
def job_page(job_id: int) -> ResponseReturnValue:
    """One of your jobs: its progress while it runs, then its result."""
    return _shown("pages/job.html", jobs.get_job(db_session(), job_id, owner=person().email))


@bp.get("/jobs/<int:job_id>/progress")
@allow("read")
def job_progress(job_id: int) -> ResponseReturnValue:
    """The progress panel alone, for htmx to swap in; it stops polling once the job ended."""
    job = jobs.get_job(db_session(), job_id, owner=person().email)
    return Response(_shown("pages/_job.html", job), headers={"Cache-Control": "no-store"})


@bp.get("/jobs/<int:job_id>/download")
@allow("read")
def job_download(job_id: int) -> ResponseReturnValue:
    """The file a finished job made (an export's zip)."""
    job = jobs.get_job(db_session(), job_id, owner=person().email)
    if job.output is None:
        return _shown("pages/job.html", job), 404
    return Response(
        job.output,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{job.output_name}"',
            "Cache-Control": "no-store",
        },
    )
