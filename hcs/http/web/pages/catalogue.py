"""The template list, one template's page with its version timeline, and new templates."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.governance import authoring
from hcs.http.api.presenters import template as present_template
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.worklist import catalogue
from templates_store.errors import Conflict, ValidationFailed
from templates_store.lookup import get_template
from templates_store.models import CATEGORIES, CHANNELS
from templates_store.status import Status


@bp.get("/templates")
@allow("read")
def templates() -> ResponseReturnValue:
    """Search templates by text, status, channel and category."""
    args = {
        name: request.args.get(name, "").strip() for name in ("q", "status", "channel", "category")
    }
    rows = catalogue(
        db_session(), **{k: v or None for k, v in args.items() if k != "q"}, q=args["q"]
    )
    return render_template(
        "pages/templates.html",
        rows=rows,
        args=args,
        categories=CATEGORIES,
        channels=CHANNELS,
        statuses=[s.value for s in Status],
    )


@bp.get("/templates/<key>")
@allow("read")
def template_page(key: str) -> ResponseReturnValue:
    """One template: its details and its versions as a timeline."""
    session = db_session()
    item = get_template(session, key)
    return render_template("pages/template.html", item=item, shown=present_template(item))


def _form_fields() -> dict[str, Any]:
    return {
        "key": request.form.get("key", "").strip(),
        "name": request.form.get("name", ""),
        "category": request.form.get("category", ""),
        "channels": request.form.getlist("channels"),
        "default_locale": request.form.get("default_locale", "en").strip() or "en",
        "description": request.form.get("description", ""),
        "owner_team": request.form.get("owner_team", ""),
    }


@bp.route("/templates/new", methods=["GET", "POST"])
@allow("templates", "author")
def new_template() -> ResponseReturnValue:
    """Create a template and its first, empty draft; then open the editor."""
    fields = _form_fields() if request.method == "POST" else {"channels": [], "category": ""}
    if request.method == "GET":
        return _new_page(fields, {})
    session, who = db_session(), person().email
    try:
        created = authoring.create(session, "template", fields, actor=who)
        draft = authoring.draft(session, "template", created.key, actor=who)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"key": [str(exc)]}
        return _new_page(fields, errors, 422)
    session.commit()
    flash(f"Template {created.key} created with draft version {draft.number}.")
    return redirect(url_for("pages.edit", key=created.key, number=draft.number))


def _new_page(
    fields: dict[str, Any], errors: dict[str, list[str]], status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "pages/new_template.html",
        fields=fields,
        errors=errors,
        categories=CATEGORIES,
        channels=CHANNELS,
    ), status


@bp.post("/templates/<key>/drafts")
@allow("templates", "author")
def new_draft(key: str) -> ResponseReturnValue:
    """A new draft from the newest version (or the one named), then the editor."""
    session = db_session()
    based_on = {"from_version": request.form.get("from_version", type=int)}
    draft = authoring.draft(session, "template", key, based_on, actor=person().email)
    session.commit()
    return redirect(url_for("pages.edit", key=key, number=draft.number))


@bp.post("/templates/<key>/retire")
@allow("review", "reviewer", "admin")
def retire(key: str) -> ResponseReturnValue:
    """Retire a template: every send of it stops; the form must name the template to confirm."""
    session = db_session()
    if request.form.get("confirm", "").strip() != key:
        flash(f"Nothing was retired: type {key} in the box to confirm.")
        return redirect(url_for("pages.template_page", key=key), 303)
    authoring.retire(session, key, actor=person().email)
    session.commit()
    flash(f"Template {key} is retired: nothing is sent from it any more.")
    return redirect(url_for("pages.template_page", key=key))
