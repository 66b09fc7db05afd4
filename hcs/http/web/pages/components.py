"""Content blocks and brand themes: their lists, pages, new ones, and their review.

The same domain functions and roles as `/api/v1/blocks` and `/api/v1/themes`; the review goes
through the `component` approval policy, four eyes included.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from hcs.audit import record
from hcs.errors import PermissionDenied
from hcs.governance import components
from hcs.http.api.presenters import component, component_version
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person, roles
from templates_store import blocks as store
from templates_store.diffing import diff_components
from templates_store.errors import Conflict, ValidationFailed
from templates_store.lookup import get_block, get_block_version, get_theme, get_theme_version
from templates_store.models import BlockVersion, ContentBlock, Theme, ThemeVersion
from templates_store.status import Status

KINDS = "<any(blocks, themes):plural>"
MODELS: dict[str, type[ContentBlock] | type[Theme]] = {"block": ContentBlock, "theme": Theme}
_STATUS: dict[type, int] = {Conflict: 409, ValidationFailed: 422}


def kind_of(plural: str) -> str:
    """`blocks` → `block`."""
    return plural[:-1]


def owner(kind: str, key: str) -> ContentBlock | Theme:
    """The block or theme named `key`, or NotFound."""
    return (get_block if kind == "block" else get_theme)(db_session(), key)


def version_of(kind: str, key: str, number: int) -> BlockVersion | ThemeVersion:
    """One version of a block or theme, or NotFound."""
    return (get_block_version if kind == "block" else get_theme_version)(db_session(), key, number)


@bp.get(f"/{KINDS}")
@roles()
def components_list(plural: str) -> ResponseReturnValue:
    """Every block (or theme) with its newest version's status and its published version."""
    model = MODELS[kind_of(plural)]
    query = select(model).order_by(model.key)
    items: list[ContentBlock | Theme] = list(db_session().scalars(query))
    return render_template(
        "pages/components.html",
        plural=plural,
        kind=kind_of(plural),
        rows=[component(i) for i in items],
    )


@bp.get(f"/{KINDS}/<key>")
@roles()
def component_page(plural: str, key: str) -> ResponseReturnValue:
    """One block or theme: its details and its versions as a timeline."""
    item = owner(kind_of(plural), key)
    return render_template(
        "pages/component.html", plural=plural, kind=kind_of(plural), shown=component(item)
    )


@bp.route(f"/{KINDS}/new", methods=["GET", "POST"])
@roles("author")
def new_component(plural: str) -> ResponseReturnValue:
    """Create a block or theme and its first, empty draft; then open its editor."""
    kind = kind_of(plural)
    fields = {name: request.form.get(name, "").strip() for name in ("key", "name", "description")}
    if request.method == "GET":
        return _new_page(plural, fields, {})
    session, who = db_session(), person().email
    try:
        if kind == "block":
            store.create_block(session, **fields)
            draft: Any = store.create_block_draft(session, fields["key"], author=who)
        else:
            store.create_theme(session, key=fields["key"], name=fields["name"])
            draft = store.create_theme_draft(session, fields["key"], author=who)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"key": [str(exc)]}
        return _new_page(plural, fields, errors, 422)
    _record_new(kind, fields["key"], draft.number)
    session.commit()
    flash(f"{kind.title()} {fields['key']} created with draft version {draft.number}.")
    return redirect(
        url_for("pages.component_edit", plural=plural, key=fields["key"], number=draft.number)
    )


def _record_new(kind: str, key: str, number: int) -> None:
    session, who = db_session(), person().email
    record(session, actor=who, action=f"{kind}.create", target_type=kind, target=key)
    record(session, actor=who, action=f"{kind}.draft", target_type=kind, target=f"{key} v{number}")


def _new_page(
    plural: str, fields: dict[str, str], errors: dict[str, list[str]], status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "pages/new_component.html",
        plural=plural,
        kind=kind_of(plural),
        fields=fields,
        errors=errors,
    ), status


@bp.post(f"/{KINDS}/<key>/drafts")
@roles("author")
def component_draft(plural: str, key: str) -> ResponseReturnValue:
    """A new draft copied from the newest version, then its editor."""
    kind, session = kind_of(plural), db_session()
    new = store.create_block_draft if kind == "block" else store.create_theme_draft
    draft = new(session, key, author=person().email)
    record(
        session,
        actor=person().email,
        action=f"{kind}.draft",
        target_type=kind,
        target=f"{key} v{draft.number}",
    )
    session.commit()
    return redirect(url_for("pages.component_edit", plural=plural, key=key, number=draft.number))


def _baseline(version: BlockVersion | ThemeVersion) -> BlockVersion | ThemeVersion | None:
    versions = (
        version.block.versions if isinstance(version, BlockVersion) else version.theme.versions
    )
    published = next((v for v in versions if v.status is Status.PUBLISHED), None)
    if published is not None and published.number != version.number:
        return published
    return next((v for v in versions if v.number == version.number - 1), None)


def _review_page(
    plural: str, key: str, number: int, refusal: str = "", status: int = 200
) -> ResponseReturnValue:
    kind, session = kind_of(plural), db_session()
    version = version_of(kind, key, number)
    baseline = _baseline(version)
    return render_template(
        "pages/component_review.html",
        plural=plural,
        kind=kind,
        key=key,
        version=version,
        shown=component_version(session, kind, version),
        baseline=baseline,
        diffs=diff_components(baseline, version) if baseline else [],
        refusal=refusal,
    ), status


@bp.get(f"/{KINDS}/<key>/versions/<int:number>")
@roles()
def component_review(plural: str, key: str, number: int) -> ResponseReturnValue:
    """One version: its content and changes, its approvals, and what may be done."""
    return _review_page(plural, key, number)


def _decide(plural: str, key: str, number: int, *, approve: bool) -> ResponseReturnValue:
    session, who = db_session(), person()
    act = components.approve if approve else components.reject
    try:
        act(
            session,
            kind_of(plural),
            key,
            number,
            reviewer=who.email,
            roles=who.roles,
            comment=request.form.get("comment", "").strip(),
        )
    except (PermissionDenied, Conflict, ValidationFailed) as exc:
        session.rollback()
        return _review_page(plural, key, number, str(exc), _STATUS.get(type(exc), 403))
    session.commit()
    flash(f"Version {number} {'approved' if approve else 'rejected'}.")
    return redirect(url_for("pages.component_review", plural=plural, key=key, number=number))


@bp.post(f"/{KINDS}/<key>/versions/<int:number>/approve")
@roles("reviewer")
def component_approve(plural: str, key: str, number: int) -> ResponseReturnValue:
    """The next stage of the component policy approves; never the version's author."""
    return _decide(plural, key, number, approve=True)


@bp.post(f"/{KINDS}/<key>/versions/<int:number>/reject")
@roles("reviewer")
def component_reject(plural: str, key: str, number: int) -> ResponseReturnValue:
    """The next stage rejects, with a comment for the author."""
    return _decide(plural, key, number, approve=False)


@bp.post(f"/{KINDS}/<key>/versions/<int:number>/publish")
@roles("reviewer", "admin")
def component_publish(plural: str, key: str, number: int) -> ResponseReturnValue:
    """Approved → published: new template versions pin this one."""
    session = db_session()
    try:
        components.publish(session, kind_of(plural), key, number, actor=person().email)
    except Conflict as exc:
        session.rollback()
        return _review_page(plural, key, number, str(exc), 409)
    session.commit()
    flash(f"Version {number} is published.")
    return redirect(url_for("pages.component_review", plural=plural, key=key, number=number))
