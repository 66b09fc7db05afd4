"""The draft editors of blocks (a source per format and locale) and themes (settings, files)."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from werkzeug.utils import secure_filename

from hcs.governance import authoring
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.components import KINDS, kind_of, version_of
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.theme_form import (
    COLOURS,
    DEFAULT_COLOURS,
    FONT_ROLES,
    FONTS,
    TEXT_SETTINGS,
    logo_from,
    settings_from,
)
from templates_store import blocks as store
from templates_store.errors import Conflict, ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.models import BlockVersion, ThemeVersion


def block_content(form: MultiDict[str, str]) -> dict[str, Any]:
    """`{"html": {locale: source}, "text": {...}}` from fields `content.<format>.<locale>`."""
    content: dict[str, Any] = {}
    for name, source in form.items():
        pieces = name.split(".")
        if len(pieces) == 3 and pieces[0] == "content" and source.strip():
            content.setdefault(pieces[1], {})[pieces[2]] = source
    return content


def block_tabs(
    version: BlockVersion, posted: MultiDict[str, str] | None, added: set[str]
) -> list[dict[str, Any]]:
    """One tab per locale with an HTML and a text field: what was posted, else what is stored."""
    values = {
        f"content.{fmt}.{locale}": source
        for fmt, locales in version.content.items()
        for locale, source in locales.items()
    } | (posted.to_dict() if posted is not None else {})
    fields = [name.split(".") for name in values if name.startswith("content.")]
    locales = added | {pieces[2] for pieces in fields if len(pieces) == 3}
    return [
        {
            "locale": locale,
            "fields": [
                {
                    "format": fmt,
                    "name": f"content.{fmt}.{locale}",
                    "id": f"f-{fmt}-{locale}",
                    "value": values.get(f"content.{fmt}.{locale}", ""),
                }
                for fmt in store.BLOCK_FORMATS
            ],
        }
        for locale in sorted(locales or {"en"})
    ]


def _added_locale() -> tuple[set[str], dict[str, list[str]]]:
    asked = request.args.get("add_locale", "").strip()
    if not asked:
        return set(), {}
    try:
        return {normalize_locale(asked)}, {}
    except ValidationFailed as exc:
        return set(), {"add_locale": list(exc.errors.values())[0]}


def _editor(
    plural: str,
    key: str,
    version: BlockVersion | ThemeVersion,
    errors: dict[str, list[str]],
    status: int = 200,
    posted: MultiDict[str, str] | None = None,
) -> ResponseReturnValue:
    added, locale_errors = _added_locale()
    errors = errors | locale_errors
    shown: dict[str, Any] = {}
    if isinstance(version, BlockVersion):
        shown["tabs"] = block_tabs(version, posted, added)
    else:
        shown.update(_theme_form(version, posted))
    return render_template(
        "pages/component_editor.html",
        plural=plural,
        kind=kind_of(plural).name,
        key=key,
        version=version,
        errors=errors,
        **shown,
    ), status


def _theme_form(version: ThemeVersion, posted: MultiDict[str, str] | None) -> dict[str, Any]:
    """What the theme's form shows: the posted values after a refusal, else the stored ones."""
    stored = version.settings
    values = {f"settings.{k}": str(stored.get(k, "")) for k in TEXT_SETTINGS}
    values |= {f"settings.colors.{k}": v for k, v in DEFAULT_COLOURS.items()}
    for group in ("colors", "fonts"):
        values |= {f"settings.{group}.{k}": str(v) for k, v in (stored.get(group) or {}).items()}
    if posted is not None:
        values |= {k: v for k, v in posted.items() if k.startswith("settings.")}
    return {
        "values": values,
        "text_settings": TEXT_SETTINGS,
        "colours": COLOURS,
        "font_roles": FONT_ROLES,
        "fonts": FONTS,
        "other_settings": sorted(set(stored) - set(TEXT_SETTINGS) - {"colors", "fonts"}),
    }


@bp.get(f"/{KINDS}/<key>/versions/<int:number>/edit")
@allow("templates", "author")
def component_edit(plural: str, key: str, number: int) -> ResponseReturnValue:
    """The editor for a draft; a submitted version opens its review page instead."""
    version = version_of(plural, key, number)
    if version.is_frozen:
        flash(f"Version {number} is {version.status.value}: start a new draft to change it.")
        return redirect(url_for("pages.component_review", plural=plural, key=key, number=number))
    return _editor(plural, key, version, {})


def _posted_settings(version: ThemeVersion) -> dict[str, Any]:
    """The settings: from the form's fields, or from a JSON object when one is posted."""
    if "settings" not in request.form:
        return settings_from(request.form, version.settings)
    try:
        settings = json.loads(request.form.get("settings", "").strip() or "{}")
    except ValueError as exc:
        raise ValidationFailed({"settings": [f"is not valid JSON: {exc}"]}) from exc
    if not isinstance(settings, dict):
        raise ValidationFailed({"settings": ["must be a JSON object"]})
    return settings


def _with_logo(settings: dict[str, Any], assets: dict[str, Any]) -> None:
    """An uploaded logo replaces the theme's logo file and is named in its settings."""
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        return
    name, entry, data = logo_from(upload)
    for old in [n for n in assets if n.rsplit(".", 1)[0] == "logo"]:
        del assets[old]
    assets[name] = entry | {"data": base64.b64encode(data).decode()}
    settings["logo"] = name


def theme_changes(version: ThemeVersion) -> dict[str, Any]:
    """The posted settings and the assets after removals, an upload and a new logo."""
    errors: dict[str, list[str]] = {}
    settings: dict[str, Any] = dict(version.settings)
    try:
        settings = _posted_settings(version)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    removed = set(request.form.getlist("remove_asset"))
    assets = {name: a for name, a in version.assets.items() if name not in removed}
    upload = request.files.get("asset")
    if upload is not None and upload.filename:
        name = secure_filename(upload.filename)
        if not name:
            raise ValidationFailed({"asset": ["needs a file name of letters, digits and dots"]})
        data = base64.b64encode(upload.read()).decode()
        assets[name] = {"content_type": upload.mimetype or "application/octet-stream", "data": data}
    try:
        _with_logo(settings, assets)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return {"settings": settings, "assets": assets}


def posted_changes(version: BlockVersion | ThemeVersion) -> dict[str, Any]:
    """The draft's new content as the form posts it, in the API's shape for its kind."""
    if isinstance(version, BlockVersion):
        return {"content": block_content(request.form)}
    return theme_changes(version)


@bp.post(f"/{KINDS}/<key>/versions/<int:number>/edit")
@allow("templates", "author")
def component_save(plural: str, key: str, number: int) -> ResponseReturnValue:
    """Save the draft; with `action=submit`, also submit it for review."""
    session, kind, who = db_session(), kind_of(plural).name, person().email
    try:
        changes = posted_changes(version_of(plural, key, number))
        authoring.edit(session, kind, key, number, changes, actor=who)
        if request.form.get("action") == "submit":
            authoring.submit(session, kind, key, number, actor=who)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"version": [str(exc)]}
        version = version_of(plural, key, number)
        return _editor(
            plural,
            key,
            version,
            errors,
            status_of(exc),
            request.form,
        )
    session.commit()
    if request.form.get("action") == "submit":
        flash(f"Version {number} was submitted for review.")
        return redirect(url_for("pages.component_review", plural=plural, key=key, number=number))
    flash("Saved.")
    return redirect(url_for("pages.component_edit", plural=plural, key=key, number=number))
