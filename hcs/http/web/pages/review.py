"""The review page: the diff against the published version, the checks, and the decisions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.errors import PermissionDenied
from hcs.governance import workflow
from hcs.governance.checks import run_checks
from hcs.governance.policies import policy_for
from hcs.http.api.presenters import version as present_version
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person, roles
from hcs.previews.diffs import diff_rendered
from templates_store.diffing import diff_versions
from templates_store.errors import Conflict, ValidationFailed
from templates_store.lookup import get_version, published_version
from templates_store.models import TemplateVersion

_STATUS: dict[type, int] = {Conflict: 409, ValidationFailed: 422}


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


def _page(key: str, number: int, refusal: str = "", status: int = 200) -> ResponseReturnValue:
    session = db_session()
    version = get_version(session, key, number)
    baseline = _baseline(version)
    return render_template(
        "pages/review.html",
        item=version.template,
        version=version,
        shown=present_version(session, version),
        baseline=baseline,
        diffs=diff_versions(baseline, version) if baseline else [],
        seen=diff_rendered(session, baseline, version) if baseline else [],
        findings=_findings(version),
        refusal=refusal,
        side=request.args.get("view") == "side",
    ), status


@bp.get("/templates/<key>/versions/<int:number>")
@roles()
def review(key: str, number: int) -> ResponseReturnValue:
    """One version: its diff, the pre-submission checks, its approvals and what may be done."""
    return _page(key, number)


def _decide(key: str, number: int, approve: bool) -> ResponseReturnValue:
    session = db_session()
    who = person()
    act = workflow.approve if approve else workflow.reject
    try:
        act(
            session,
            key,
            number,
            reviewer=who.email,
            roles=who.roles,
            comment=request.form.get("comment", "").strip(),
        )
    except (PermissionDenied, Conflict, ValidationFailed) as exc:
        session.rollback()
        return _page(key, number, str(exc), _STATUS.get(type(exc), 403))
    session.commit()
    flash(f"Version {number} {'approved' if approve else 'rejected'}.")
    return redirect(url_for("pages.review", key=key, number=number))


@bp.post("/templates/<key>/versions/<int:number>/approve")
@roles("reviewer")
def approve(key: str, number: int) -> ResponseReturnValue:
    """The next stage approves; never the version's author."""
    return _decide(key, number, approve=True)


@bp.post("/templates/<key>/versions/<int:number>/reject")
@roles("reviewer")
def reject(key: str, number: int) -> ResponseReturnValue:
    """The next stage rejects, with a comment for the author."""
    return _decide(key, number, approve=False)


@bp.post("/templates/<key>/versions/<int:number>/publish")
@roles("reviewer", "admin")
def publish(key: str, number: int) -> ResponseReturnValue:
    """Approved → published (an older version: a rollback)."""
    session = db_session()
    try:
        workflow.publish(session, key, number, actor=person().email)
    except Conflict as exc:
        session.rollback()
        return _page(key, number, str(exc), 409)
    session.commit()
    flash(f"Version {number} is published.")
    return redirect(url_for("pages.review", key=key, number=number))
