"""The visual email design as a server-rendered form: every block's fields, and buttons to move,
remove and add blocks, each posting the form and showing it again (no script needed)."""

from __future__ import annotations

import copy
import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.governance import authoring
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.design_form import (
    KINDS,
    NESTED,
    NESTED_LABELS,
    apply_fields,
    apply_op,
    problems_by_block,
    read_document,
    runs_to_text,
)
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.worklist import block_catalogue
from templates_store.errors import NotFound, ValidationFailed
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from templates_store.visual_document import clean_document

START = {
    "version": 1,
    "blocks": [
        {"type": "heading", "level": 1, "text": [{"text": "Hello"}]},
        {"type": "paragraph", "text": [{"text": "Write your message here."}]},
    ],
}


def _part(version: TemplateVersion, locale: str) -> dict[str, Any]:
    parts = version.parts.get("email") or {}
    if locale not in parts and locale != version.template.default_locale:
        raise NotFound(f"version {version.number} has no email in {locale!r}")
    return dict(parts.get(locale) or {})


def _problems(document: dict[str, Any]) -> dict[str, list[str]]:
    try:
        clean_document(document)
    except ValidationFailed as exc:
        # named within the part, as the visual editor shows them: `blocks.2.alt`
        return {k.removeprefix("blocks.") if k != "blocks" else k: v for k, v in exc.errors.items()}
    return {}


def _page(
    version: TemplateVersion, locale: str, document: dict[str, Any], errors: dict[str, list[str]]
) -> str:
    return render_template(
        "pages/design.html",
        version=version,
        item=version.template,
        locale=locale,
        document=document,
        source=json.dumps(document, ensure_ascii=False, sort_keys=True),
        problems=problems_by_block(errors),
        kinds=KINDS,
        nested=NESTED,
        nested_labels=NESTED_LABELS,
        as_text=runs_to_text,
        content_keys=[b.key for b in block_catalogue(db_session())],
        starting="blocks" not in _part(version, locale),
    )


def _draft(key: str, number: int, locale: str) -> TemplateVersion:
    version = get_version(db_session(), key, number)
    _part(version, locale)
    return version


@bp.get("/templates/<key>/versions/<int:number>/design/<locale>")
@allow("templates", "author")
def design(key: str, number: int, locale: str) -> ResponseReturnValue:
    """The email's design in `locale` as a form (a hand-written email starts a new design)."""
    version = _draft(key, number, locale)
    if version.is_frozen:
        flash(f"Version {number} is {version.status.value}: start a new draft to change it.")
        return redirect(url_for("pages.review", key=key, number=number))
    document = _part(version, locale).get("blocks") or copy.deepcopy(START)
    return _page(version, locale, document, _problems(document))


@bp.post("/templates/<key>/versions/<int:number>/design/<locale>")
@allow("templates", "author")
def design_post(key: str, number: int, locale: str) -> ResponseReturnValue:
    """Read the fields, do what the button pressed says, and show the form again or save it."""
    version, form = _draft(key, number, locale), request.form
    try:
        document = read_document(form.get("document", ""))
    except ValidationFailed as exc:
        return _page(version, locale, copy.deepcopy(START), exc.errors), 422
    document = apply_fields(document, form)
    try:
        if form.get("op") == "save":
            return _save(version, locale, document)
        apply_op(document, form.get("op", "check"), form, _first_variable(version))
    except ValidationFailed as exc:
        db_session().rollback()
        return _page(version, locale, document, exc.errors), 422
    return _page(version, locale, document, _problems(document))


def _first_variable(version: TemplateVersion) -> str:
    names = [v.get("name") for v in version.variables if isinstance(v, dict)]
    return next((n for n in names if isinstance(n, str)), "name")


def _save(version: TemplateVersion, locale: str, document: dict[str, Any]) -> ResponseReturnValue:
    """Store the design in the draft (its html and text compile from it)."""
    problems = _problems(document)
    if problems:
        return _page(version, locale, document, problems), 422
    parts = copy.deepcopy(version.parts)
    part = {k: v for k, v in _part(version, locale).items() if k not in ("html", "text")}
    parts.setdefault("email", {})[locale] = part | {"blocks": document}
    key, number = version.template.key, version.number
    authoring.edit(db_session(), "template", key, number, {"parts": parts}, actor=person().email)
    db_session().commit()
    flash("Saved.")
    return redirect(url_for("pages.edit", key=key, number=number), 303)
