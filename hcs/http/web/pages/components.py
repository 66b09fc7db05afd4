"""Content blocks and brand themes: their lists, pages, new ones, and their review.

The same domain functions and roles as `/api/v1/blocks` and `/api/v1/themes`; the review goes
through the `component` approval policy, four eyes included.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from hcs.errors import PermissionDenied
from hcs.governance import authoring
from hcs.governance.kinds import COMPONENT_KINDS, Kind
from hcs.http.api.presenters import component, component_version
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from templates_store.diffing import diff_components
from templates_store.errors import Conflict, ValidationFailed
from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion
from templates_store.status import Status

KINDS = "<any(blocks, themes):plural>"


def kind_of(plural: str) -> Kind:
    """`blocks` → the block kind."""
    return COMPONENT_KINDS[plural.removesuffix("s")]


def version_of(plural: str, key: str, number: int) -> BlockVersion | ThemeVersion:
    """One version of a block or theme, or NotFound."""
    version = kind_of(plural).get_version(db_session(), key, number)
    assert not isinstance(version, TemplateVersion)  # COMPONENT_KINDS holds blocks and themes
    return version


@bp.get(f"/{KINDS}")
@allow("read")
def components_list(plural: str) -> ResponseReturnValue:
    """Every block (or theme) with its newest version's status and its published version."""
    model = kind_of(plural).model
    items = list(db_session().scalars(select(model).order_by(model.key)))
    return render_template(
        "pages/components.html",
        plural=plural,
        kind=kind_of(plural).name,
        rows=[component(i) for i in items],
    )


@bp.get(f"/{KINDS}/<key>")
@allow("read")
def component_page(plural: str, key: str) -> ResponseReturnValue:
    """One block or theme: its details and its versions as a timeline."""
    item = kind_of(plural).get(db_session(), key)
    return render_template(
        "pages/component.html", plural=plural, kind=kind_of(plural).name, shown=component(item)
    )


@bp.route(f"/{KINDS}/new", methods=["GET", "POST"])
@allow("templates", "author")
def new_component(plural: str) -> ResponseReturnValue:
    """Create a block or theme and its first, empty draft; then open its editor."""
    kind = kind_of(plural).name
    fields = {name: request.form.get(name, "").strip() for name in ("key", "name", "description")}
    if request.method == "GET":
        return _new_page(plural, fields, {})
    session, who = db_session(), person().email
    try:
        authoring.create(session, kind, fields, actor=who)
        draft = authoring.draft(session, kind, fields["key"], actor=who)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"key": [str(exc)]}
        return _new_page(plural, fields, errors, 422)
    session.commit()
    flash(f"{kind.title()} {fields['key']} created with draft version {draft.number}.")
    return redirect(
        url_for("pages.component_edit", plural=plural, key=fields["key"], number=draft.number)
    )


def _new_page(
    plural: str, fields: dict[str, str], errors: dict[str, list[str]], status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "pages/new_component.html",
        plural=plural,
        kind=kind_of(plural).name,
        fields=fields,
        errors=errors,
    ), status


@bp.post(f"/{KINDS}/<key>/drafts")
@allow("templates", "author")
def component_draft(plural: str, key: str) -> ResponseReturnValue:
    """A new draft copied from the newest version, then its editor."""
    session = db_session()
    draft = authoring.draft(session, kind_of(plural).name, key, actor=person().email)
    session.commit()
    return redirect(url_for("pages.component_edit", plural=plural, key=key, number=draft.number))


def _baseline(
    kind: Kind, version: BlockVersion | ThemeVersion
) -> BlockVersion | ThemeVersion | None:
    versions: list[BlockVersion] | list[ThemeVersion] = kind.owner_of(version).versions  # type: ignore[assignment]
    published = next((v for v in versions if v.status is Status.PUBLISHED), None)
    if published is not None and published.number != version.number:
        return published
    return next((v for v in versions if v.number == version.number - 1), None)


def _review_page(
    plural: str, key: str, number: int, refusal: str = "", status: int = 200
) -> ResponseReturnValue:
    kind, session = kind_of(plural), db_session()
    version = version_of(plural, key, number)
    baseline = _baseline(kind, version)
    return render_template(
        "pages/component_review.html",
        plural=plural,
        kind=kind.name,
        key=key,
        version=version,
        shown=component_version(session, kind.name, version),
        baseline=baseline,
        diffs=diff_components(baseline, version) if baseline else [],
        refusal=refusal,
    ), status


@bp.get(f"/{KINDS}/<key>/versions/<int:number>")
@allow("read")
def component_review(plural: str, key: str, number: int) -> ResponseReturnValue:
    """One version: its content and changes, its approvals, and what may be done."""
    return _review_page(plural, key, number)


@bp.post(f"/{KINDS}/<key>/versions/<int:number>/<any(approve, reject):verdict>")
@allow("review", "reviewer")
def component_decide(plural: str, key: str, number: int, verdict: str) -> ResponseReturnValue:
    """The next stage approves, or rejects with a comment; never the version's author."""
    session, who = db_session(), person()
    comment = request.form.get("comment", "").strip()
    try:
        authoring.decide(
            session,
            kind_of(plural).name,
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
        return _review_page(plural, key, number, str(exc), status_of(exc))
    session.commit()
    flash(f"Version {number} {verdict}d.")
    return redirect(url_for("pages.component_review", plural=plural, key=key, number=number))


@bp.post(f"/{KINDS}/<key>/versions/<int:number>/publish")
@allow("review", "reviewer", "admin")
def component_publish(plural: str, key: str, number: int) -> ResponseReturnValue:
    """Approved → published: new template versions pin this one."""
    session = db_session()
    try:
        authoring.publish(session, kind_of(plural).name, key, number, actor=person().email)
    except Conflict as exc:
        session.rollback()
        return _review_page(plural, key, number, str(exc), status_of(exc))
    session.commit()
    flash(f"Version {number} is published.")
    return redirect(url_for("pages.component_review", plural=plural, key=key, number=number))
