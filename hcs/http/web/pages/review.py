"""The review page: the diff against the published version, the checks, and the decisions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.ai.providers import build_provider
from hcs.errors import PermissionDenied
from hcs.governance import authoring, redteam
from hcs.governance.checks import run_checks
from hcs.governance.policies import policy_for
from hcs.http.api.presenters import version as present_version
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.jobs import launch
from hcs.jobs import start_job
from hcs.previews.diffs import diff_rendered
from hcs.previews.drafts import preview_saved
from templates_store.closure import resolve_closure
from templates_store.diffing import diff_versions
from templates_store.errors import Conflict, ValidationFailed
from templates_store.lookup import get_version, published_version
from templates_store.models import TemplateVersion


def _findings(version: TemplateVersion) -> list[Any]:
    session = db_session()
    try:
        return run_checks(session, version, policy_for(session, version.template.category))
    except ValidationFailed as exc:  # a draft whose sample data does not fit its variables
        return [
            {"check": "render", "severity": "error", "part": k, "message": "; ".join(v)}
            for k, v in exc.errors.items()
        ]


def _baseline(version: TemplateVersion) -> TemplateVersion | None:
    published = published_version(version.template)
    if published is not None and published.number != version.number:
        return published
    earlier = version.based_on or (version.number - 1)
    return next((v for v in version.template.versions if v.number == earlier), None)


def _pin_hashes(version: TemplateVersion) -> dict[str, str | None]:
    """Each pinned block's and the theme's own closure hash, by `block key` / `theme key`."""
    if version.closure is None:
        return {}
    closure = resolve_closure(db_session(), version)
    hashes: dict[str, str | None] = {
        f"block {k}": b.closure_hash for k, b in closure.blocks.items()
    }
    if closure.theme is not None:
        hashes[f"theme {closure.theme.theme.key}"] = closure.theme.closure_hash
    return hashes


def _page(key: str, number: int, refusal: str = "", status: int = 200) -> ResponseReturnValue:
    session = db_session()
    version = get_version(session, key, number)
    baseline = _baseline(version)
    published = published_version(version.template)
    return render_template(
        "pages/review.html",
        item=version.template,
        version=version,
        shown=present_version(session, version),
        baseline=baseline,
        diffs=diff_versions(baseline, version) if baseline else [],
        seen=diff_rendered(session, baseline, version) if baseline else [],
        findings=_findings(version),
        found=preview_saved(session, key, number),
        pin_hashes=_pin_hashes(version),
        refusal=refusal,
        replaces=published.number if published else "",
        side=request.args.get("view") == "side",
        red_team_runs=redteam.runs_of(session, version) if version.ai_slots else [],
        provider_name=services().settings.ai_provider,
    ), status


@bp.get("/templates/<key>/versions/<int:number>")
@allow("read")
def review(key: str, number: int) -> ResponseReturnValue:
    """One version: its diff, the pre-submission checks, its approvals and what may be done."""
    return _page(key, number)


@bp.post("/templates/<key>/versions/<int:number>/<any(approve, reject):verdict>")
@allow("review", "reviewer")
def decide(key: str, number: int, verdict: str) -> ResponseReturnValue:
    """The next stage approves, or rejects with a comment; never the version's author."""
    session, who = db_session(), person()
    comment = request.form.get("comment", "").strip()
    try:
        authoring.decide(
            session,
            "template",
            key,
            number,
            approve=verdict == "approve",
            comment=comment,
            actor=who.email,
            roles=who.roles,
            closure_hash=request.form.get("closure_hash") or None,
        )
    except (PermissionDenied, Conflict, ValidationFailed) as exc:
        session.rollback()
        return _page(key, number, str(exc), status_of(exc))
    session.commit()
    flash(f"Version {number} {verdict}d.")
    return redirect(url_for("pages.review", key=key, number=number))


@bp.post("/templates/<key>/versions/<int:number>/publish")
@allow("review", "reviewer", "admin")
def publish(key: str, number: int) -> ResponseReturnValue:
    """Approved → published (an older version: a rollback)."""
    session = db_session()
    seen = request.form.get("replaces")
    expect = {} if seen is None else {"replaces": int(seen) if seen.isdigit() else None}
    try:
        authoring.publish(session, "template", key, number, actor=person().email, **expect)
    except (Conflict, PermissionDenied) as exc:
        session.rollback()
        return _page(key, number, str(exc), status_of(exc))
    session.commit()
    flash(f"Version {number} is published.")
    return redirect(url_for("pages.review", key=key, number=number))


@bp.post("/templates/<key>/versions/<int:number>/red-team")
@allow("review", "reviewer", "author")
def red_team(key: str, number: int) -> ResponseReturnValue:
    """Start the red-team check of the version's AI slots as a job; its page shows progress."""
    session, who = db_session(), person()
    provider = build_provider(services().settings)
    try:
        plan = redteam.plan_run(session, key, number, provider)
    except ValidationFailed as exc:
        redteam.release(provider)
        session.rollback()
        return _page(key, number, str(exc), status_of(exc))
    title = f"Red-team check of {key} v{number}"
    job = start_job(session, kind="red_team", owner=who.email, title=title, total=len(plan.cases))
    session.commit()
    return launch(job.id, redteam.red_team_work(plan, actor=who.email))
