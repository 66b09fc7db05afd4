"""The draft editor: a tab per channel and locale, save, submit, and the live preview."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from hcs.governance import authoring
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.marks import line_of
from hcs.http.web.worklist import block_catalogue
from hcs.previews.drafts import DraftPreview, preview_unsaved, render_unsaved
from templates_store.errors import ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from templates_store.parts import PART_FIELDS, REQUIRED_FIELDS

# What the rendered email or letter may do inside its sandboxed frame: show itself, nothing else.
FRAME_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)
JSON_FIELDS = {"variables": "[]", "sample_data": "{}", "ai_slots": "[]"}


def changes_from(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The draft's content as the form posts it, and the fields that are not valid JSON."""
    parts: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, text in form.items():
        if not name.startswith("parts.") or name.count(".") != 3:
            continue
        _, channel, locale, field = name.split(".")
        if field not in REQUIRED_FIELDS.get(channel, ()) and not text.strip():
            continue  # an optional part left empty is no part
        value: Any = text
        if field == "quick_replies":
            value = [line.strip() for line in text.splitlines() if line.strip()]
        if field == "blocks":  # the visual editor's document (blocks.js keeps it as JSON)
            value, problem = _document(text)
            if problem:
                errors[name] = [problem]
                continue
        parts.setdefault(channel, {}).setdefault(locale, {})[field] = value
    for locales in parts.values():  # a locale added and left empty is no locale
        for locale in [loc for loc, fields in locales.items() if _is_empty(fields)]:
            del locales[locale]
    changes: dict[str, Any] = {"parts": {c: locales for c, locales in parts.items() if locales}}
    for field, empty in JSON_FIELDS.items():
        try:
            changes[field] = json.loads(form.get(field, "").strip() or empty)
        except ValueError as exc:
            errors[field] = [f"is not valid JSON: {exc}"]
    return changes, errors


def _document(text: str) -> tuple[Any, str]:
    try:
        return json.loads(text), ""
    except ValueError as exc:
        return None, f"the visual design could not be read: {exc}"


def _is_empty(fields: dict[str, Any]) -> bool:
    return not any(v.strip() if isinstance(v, str) else v for v in fields.values())


def field_of(key: str) -> str:
    """The form field an error key names: `parts.sms.body.en` → `parts.sms.en.body`."""
    tokens = key.split(".")
    if tokens[0] == "checks" and len(tokens) > 2:
        tokens = ["parts", *tokens[2:]]
    if tokens[0] != "parts" or len(tokens) < 3 or tokens[1] not in PART_FIELDS:
        return tokens[0]
    channel, rest = tokens[1], tokens[2:]
    if rest[0] in PART_FIELDS[channel] and len(rest) > 1:
        return f"parts.{channel}.{rest[1]}.{rest[0]}"
    return ".".join(["parts", channel, *rest[:2]])


def field_id(name: str) -> str:
    """The element id of a form field: `parts.sms.en.body` → `f-sms-en-body`."""
    return "f-" + "-".join(name.split(".")[1:]) if name.startswith("parts.") else f"f-{name}"


def live_problems(
    form: MultiDict[str, str], errors: dict[str, list[str]], found: DraftPreview | None
) -> dict[str, list[str]]:
    """For every field of the form, what the preview found wrong with it (often nothing)."""
    shown: dict[str, list[str]] = {name: [] for name in form}
    for name, messages in errors.items():
        shown.setdefault(name, []).extend(messages)
    for channel in found.channels if found else []:
        if channel.part:
            shown.setdefault(field_of(f"parts.{channel.part}"), []).append(channel.problem)
    fields = {name for name in form if name.startswith("parts.") or name in JSON_FIELDS}
    designs = {name for name in form if name.endswith(".blocks") and form[name].strip()}
    shown = onto_designs(shown, designs)
    return {name: messages for name, messages in shown.items() if name in fields}


def onto_designs(grouped: dict[str, list[str]], designs: set[str]) -> dict[str, list[str]]:
    """A visual part's compiled html and text show no field: their problems go to its design."""
    moved: dict[str, list[str]] = {}
    for name, messages in grouped.items():
        stem, _, field = name.rpartition(".")
        design = f"{stem}.blocks"
        if field in ("html", "text") and design in designs:
            moved.setdefault(design, []).extend(f"in the compiled {field}: {m}" for m in messages)
        else:
            moved.setdefault(name, []).extend(messages)
    return moved


def placed(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors grouped by the form field they belong to."""
    grouped: dict[str, list[str]] = {}
    for key, messages in errors.items():
        field = field_of(key)
        # inside a field (a block of a visual design): say where, e.g. `blocks.2.url: ...`
        where = key[len(field) + 1 :] + ": " if key.startswith(field + ".") else ""
        grouped.setdefault(field, []).extend(where + m for m in messages)
    return grouped


def tabs(version: TemplateVersion, added: set[str]) -> list[dict[str, Any]]:
    """One tab per channel and locale (plus the locales being `added`), with current sources."""
    template = version.template
    shown = []
    for channel in template.channels:
        locales = set(version.parts.get(channel) or {template.default_locale: {}}) | added
        for locale in sorted(locales):
            sources = (version.parts.get(channel) or {}).get(locale, {})
            fields = [
                {
                    "field": f,
                    "name": f"parts.{channel}.{locale}.{f}",
                    "value": _text(sources.get(f)),
                }
                for f in PART_FIELDS[channel]
            ]
            shown.append(
                {
                    "id": f"{channel}-{locale}",
                    "channel": channel,
                    "locale": locale,
                    "fields": fields,
                }
            )
    return shown


def _text(value: Any) -> str:
    if isinstance(value, dict):  # a visual part's block document
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, list):
        return "\n".join(value)
    return value or ""


def _added_locales(posted: MultiDict[str, str] | None) -> tuple[set[str], dict[str, list[str]]]:
    """Locales the author is adding: asked for in `?add_locale=`, or already typed into."""
    added = {name.split(".")[2] for name in (posted or {}) if name.startswith("parts.")}
    asked = request.args.get("add_locale", "").strip()
    if not asked:
        return added, {}
    try:
        return added | {normalize_locale(asked)}, {}
    except ValidationFailed as exc:
        return added, {"add_locale": list(exc.errors.values())[0]}


def _page(
    version: TemplateVersion,
    errors: dict[str, list[str]],
    status: int = 200,
    posted: MultiDict[str, str] | None = None,
) -> ResponseReturnValue:
    added, locale_errors = _added_locales(posted)
    grouped = placed(errors) | locale_errors
    values = {
        field: json.dumps(getattr(version, field), indent=2, ensure_ascii=False)
        for field in JSON_FIELDS
    }
    page_tabs = tabs(version, added)
    if posted is not None:  # show what the author typed, not what is stored
        values.update({k: posted.get(k, "") for k in JSON_FIELDS})
        for tab in page_tabs:
            for f in tab["fields"]:
                f["value"] = posted.get(f["name"], f["value"])
    designs = {
        f["name"] for t in page_tabs for f in t["fields"] if f["field"] == "blocks" and f["value"]
    }
    grouped = onto_designs(grouped, designs)
    known = set(JSON_FIELDS) | {"add_locale"} | {f["name"] for t in page_tabs for f in t["fields"]}
    general = {k: v for k, v in grouped.items() if k not in known}
    return render_template(
        "pages/editor.html",
        version=version,
        item=version.template,
        tabs=page_tabs,
        values=values,
        errors=grouped,
        general=general,
        blocks=block_catalogue(db_session()),
        field_id=field_id,
        line_of=line_of,
    ), status


def _draft(key: str, number: int) -> TemplateVersion:
    return get_version(db_session(), key, number)


@bp.get("/templates/<key>/versions/<int:number>/edit")
@allow("templates", "author")
def edit(key: str, number: int) -> ResponseReturnValue:
    """The editor for a draft; a submitted version opens its review page instead."""
    version = _draft(key, number)
    if version.is_frozen:
        flash(f"Version {number} is {version.status.value}: start a new draft to change it.")
        return redirect(url_for("pages.review", key=key, number=number))
    return _page(version, {})


@bp.post("/templates/<key>/versions/<int:number>/edit")
@allow("templates", "author")
def save(key: str, number: int) -> ResponseReturnValue:
    """Save the draft; with `action=submit`, also submit it for review."""
    session = db_session()
    changes, errors = changes_from(request.form)
    try:
        if errors:
            raise ValidationFailed(errors)
        authoring.edit(session, "template", key, number, changes, actor=person().email)
        if request.form.get("action") == "submit":
            authoring.submit(session, "template", key, number, actor=person().email)
    except ValidationFailed as exc:
        session.rollback()
        return _page(_draft(key, number), exc.errors, 422, request.form)
    session.commit()
    if request.form.get("action") == "submit":
        flash(f"Version {number} was submitted for review.")
        return redirect(url_for("pages.template_page", key=key))
    flash("Saved.")
    return redirect(url_for("pages.edit", key=key, number=number))


@bp.post("/templates/<key>/versions/<int:number>/preview")
@allow("templates", "author")
def live_preview(key: str, number: int) -> ResponseReturnValue:
    """The preview panel for the posted, unsaved content (htmx swaps it in); nothing is kept."""
    changes, errors = changes_from(request.form)
    found = preview_unsaved(db_session(), key, number, changes) if not errors else None
    grouped = placed(found.errors if found else errors)
    return render_template(
        "pages/_preview.html",
        key=key,
        number=number,
        found=found,
        errors=grouped,
        live=live_problems(request.form, grouped, found),
        posted=request.form,
        field_id=field_id,
        line_of=line_of,
    )


@bp.post("/templates/<key>/versions/<int:number>/frame/<channel>/<locale>")
@allow("templates", "author")
def frame(key: str, number: int, channel: str, locale: str) -> ResponseReturnValue:
    """The posted email or letter rendered alone, for a sandboxed frame with its own policy."""
    changes, errors = changes_from(request.form)
    shown = render_unsaved(db_session(), key, number, changes, channel, locale)
    html = render_template("pages/_frame.html", shown=shown, errors=errors)
    return Response(
        html, headers={"Content-Security-Policy": FRAME_POLICY, "Cache-Control": "no-store"}
    )
