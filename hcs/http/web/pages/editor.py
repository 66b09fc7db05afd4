"""The draft editor: a tab per channel and locale, save, submit, and the live preview."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from hcs.ai.slots import ON_FAILURE, TONES
from hcs.governance import authoring
from hcs.governance.drafts import slot_problems
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.forms import data_changes, sample_rows, slot_rows, variable_rows
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.marks import line_of
from hcs.http.web.worklist import block_catalogue
from hcs.previews.drafts import DraftPreview, preview_unsaved, render_unsaved
from templates_store.errors import ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from templates_store.parts import PART_FIELDS, REQUIRED_FIELDS
from templates_store.variables import DATA_CLASSES, VARIABLE_TYPES

# What the rendered email or letter may do inside its sandboxed frame: show itself, nothing else.
FRAME_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)
JSON_FIELDS = {"variables": "[]", "sample_data": "{}", "ai_slots": "[]"}
ROW_FIELDS = ("variables", "ai_slots", "samples")


def changes_from(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The draft's content as the form posts it, and the fields that cannot be read."""
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
    data, found = data_changes(form)
    return changes | data, errors | found


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
    if tokens[0] in ROW_FIELDS and len(tokens) >= 3:
        return ".".join(tokens[:3])  # one field of one row: `ai_slots.0.inputs`
    if tokens[0] == "sample_data" and len(tokens) == 2:
        return f"samples.0.values.{tokens[1]}"
    if tokens[0] == "sample_sets" and len(tokens) == 3:
        return f"sample_sets.{tokens[1]}.{tokens[2]}"
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
    if name.startswith("parts."):
        return "f-" + "-".join(name.split(".")[1:])
    return "f-" + name.replace(".", "-").replace(" ", "_")


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
    fields |= {name for name in shown if name.split(".")[0] in ROW_FIELDS}
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


def _shown_data(version: TemplateVersion, posted: MultiDict[str, str] | None) -> dict[str, Any]:
    """The variables, sample sets and slots to show: as posted, else as stored."""
    if posted is None:
        data = {f: getattr(version, f) for f in JSON_FIELDS}
    else:
        data = data_changes(posted)[0]
    return {
        "variable_rows": variable_rows(data["variables"]),
        "sample_rows": sample_rows(data["sample_data"]),
        "slot_rows": slot_rows(data["ai_slots"]),
    }


def _sample_keys(errors: dict[str, list[str]], rows: list[dict[str, Any]]) -> None:
    """Errors of a named sample set (`sample_sets.<name>.<field>`) moved to its row's field."""
    row_of = {row["name"]: index for index, row in enumerate(rows)}
    for key in [k for k in errors if k.startswith("sample_sets.") and k.count(".") == 2]:
        _, name, field = key.split(".")
        if name in row_of:
            errors.setdefault(f"samples.{row_of[name]}.values.{field}", []).extend(errors.pop(key))


def _in_a_row(key: str) -> bool:
    """Whether an error belongs to one field of a form row (shown next to it)."""
    return key.split(".")[0] in ROW_FIELDS and key.count(".") >= 2


def _page(
    version: TemplateVersion,
    errors: dict[str, list[str]],
    status: int = 200,
    posted: MultiDict[str, str] | None = None,
    *,
    saved: bool = False,
) -> ResponseReturnValue:
    added, locale_errors = _added_locales(posted)
    grouped = placed(errors) | locale_errors
    shown = _shown_data(version, posted)
    _sample_keys(grouped, shown["sample_rows"])
    page_tabs = tabs(version, added)
    if posted is not None:  # show what the author typed, not what is stored
        for tab in page_tabs:
            for f in tab["fields"]:
                f["value"] = posted.get(f["name"], f["value"])
    if not saved and posted is None:  # what submitting would refuse, shown before it is tried
        grouped |= placed(slot_problems(db_session(), version))
    designs = {
        f["name"] for t in page_tabs for f in t["fields"] if f["field"] == "blocks" and f["value"]
    }
    grouped = onto_designs(grouped, designs)
    known = {"add_locale"} | {f["name"] for t in page_tabs for f in t["fields"]}
    general = {k: v for k, v in grouped.items() if k not in known and not _in_a_row(k)}
    return render_template(
        "pages/editor.html",
        version=version,
        item=version.template,
        tabs=page_tabs,
        errors=grouped,
        general=general,
        saved=saved,
        refused=posted is not None,
        types=VARIABLE_TYPES,
        data_classes=DATA_CLASSES,
        tones=TONES,
        failure_modes=ON_FAILURE,
        blocks=block_catalogue(db_session()),
        field_id=field_id,
        line_of=line_of,
        **shown,
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
    """Save the draft; with `action=submit`, also submit it for review.

    A draft that saves but cannot be submitted (its AI slots are incomplete, a check fails)
    stays saved: the page shows why it was not submitted.
    """
    session, who = db_session(), person().email
    changes, errors = changes_from(request.form)
    try:
        if errors:
            raise ValidationFailed(errors)
        authoring.edit(session, "template", key, number, changes, actor=who)
    except ValidationFailed as exc:
        session.rollback()
        return _page(_draft(key, number), exc.errors, 422, request.form)
    if request.form.get("action") == "submit":
        return _submit(key, number, who)
    session.commit()
    flash("Saved.")
    return redirect(url_for("pages.edit", key=key, number=number))


def _submit(key: str, number: int, who: str) -> ResponseReturnValue:
    session = db_session()
    savepoint = session.begin_nested()
    try:
        authoring.submit(session, "template", key, number, actor=who)
    except ValidationFailed as exc:
        savepoint.rollback()
        session.commit()  # the edit is kept; only the submission is refused
        return _page(_draft(key, number), exc.errors, 422, saved=True)
    session.commit()
    flash(f"Version {number} was submitted for review.")
    return redirect(url_for("pages.template_page", key=key))


@bp.post("/templates/<key>/versions/<int:number>/preview")
@allow("templates", "author")
def live_preview(key: str, number: int) -> ResponseReturnValue:
    """The preview panel for the posted, unsaved content (htmx swaps it in); nothing is kept."""
    changes, errors = changes_from(request.form)
    sample = request.form.get("preview_sample")
    found = None if errors else preview_unsaved(db_session(), key, number, changes, sample)
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
    sample = request.form.get("preview_sample")
    shown = render_unsaved(db_session(), key, number, changes, (channel, locale), sample)
    html = render_template("pages/_frame.html", shown=shown, errors=errors)
    return Response(
        html, headers={"Content-Security-Policy": FRAME_POLICY, "Cache-Control": "no-store"}
    )
