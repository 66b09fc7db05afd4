"""The archive for auditors: search what was sent, read one entry as it went out, its seal."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import escape

from hcs import archive
from hcs.dispatch.letter_previews import archived_pages
from hcs.http.auth import allow
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.editor import FRAME_POLICY
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.letters import letter_frame
from templates_store.models import CHANNELS

PAGE_SIZE = 50
TEXT_FILTERS = ("recipient", "template", "channel")
EMAIL_TYPE = "message/rfc822"
LETTER_TYPE = "application/pdf"


# Which keys' entries: test keys' (their messages never reached a provider) or live ones.
KINDS: dict[str, bool | None] = {"": None, "live": False, "test": True}


def _day(name: str, errors: dict[str, str]) -> date | None:
    value = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        errors[name] = "use a date such as 2026-11-23"
        return None


def _filters() -> tuple[dict[str, str], archive.ArchiveFilters, dict[str, str]]:
    names = (*TEXT_FILTERS, "kind", "since", "until")
    args = {name: request.args.get(name, "").strip() for name in names}
    errors: dict[str, str] = {}
    if args["kind"] not in KINDS:
        errors["kind"] = "choose live or test"
    since, until = _day("since", errors), _day("until", errors)
    filters = archive.ArchiveFilters(
        **{name: args[name] or None for name in TEXT_FILTERS},
        since=datetime.combine(since, time(), UTC) if since else None,
        # Until a day means up to the end of that day.
        until=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
        test=KINDS.get(args["kind"]),
    )
    return args, filters, errors


def _export_query(filters: archive.ArchiveFilters) -> dict[str, str]:
    """The same search for the API's export, its dates as ISO 8601 instants."""
    query = {name: getattr(filters, name) for name in TEXT_FILTERS}
    moments = {"since": filters.since, "until": filters.until}
    query.update({name: at.isoformat() for name, at in moments.items() if at})
    if filters.test is not None:
        query["test"] = "true" if filters.test else "false"
    return {name: value for name, value in query.items() if value}


@bp.get("/archive")
@allow("read", "auditor", "admin")
def archive_search() -> ResponseReturnValue:
    """Entries matching every filter, newest first; no personal data in the list. Audited."""
    args, filters, errors = _filters()
    entries: list[Any] = []
    total = 0
    if not errors:
        session, keys = db_session(), archive.keyring(services().settings)
        found, total = archive.search(
            session, filters, actor=person().email, limit=PAGE_SIZE, offset=0, keys=keys
        )
        session.commit()
        entries = [archive.clear_fields(entry) for entry in found]
    return render_template(
        "pages/archive.html",
        entries=entries,
        total=total,
        args=args,
        errors=errors,
        channels=CHANNELS,
        export_query=_export_query(filters),
    )


@bp.get("/archive/<int:entry_id>")
@allow("read", "auditor", "admin")
def archive_entry(entry_id: int) -> ResponseReturnValue:
    """One entry: its exact output, delivery events, AI provenance and its seal. Audited."""
    session = db_session()
    keys = archive.keyring(services().settings)
    opened = archive.read_entry(session, entry_id, actor=person().email, keys=keys)
    session.commit()
    return render_template("pages/archive_entry.html", entry=archive.describe(opened))


# A download named as its kind: an email opens in a mail program, a letter in a PDF reader.
EXTENSIONS = {
    "message/rfc822": ".eml",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "application/json": ".json",
}


@bp.get("/archive/<int:entry_id>/output")
@allow("read", "auditor", "admin")
def archive_output(entry_id: int) -> ResponseReturnValue:
    """The exact bytes that were sent, as a download. Audited."""
    session = db_session()
    keys = archive.keyring(services().settings)
    shown = archive.describe(archive.read_entry(session, entry_id, actor=person().email, keys=keys))
    session.commit()
    if shown["output"] is None:
        return render_template("pages/archive_entry.html", entry=shown), 410
    raw = shown["output"]
    body = base64.b64decode(raw) if shown["output_encoding"] == "base64" else raw.encode()
    kind = str(shown.get("content_type") or "").split(";")[0].strip()
    kind = kind if kind in EXTENSIONS else "application/octet-stream"
    return Response(
        body,
        mimetype=kind,
        headers={
            "Content-Disposition": f'attachment; filename="archive-{entry_id}'
            f'{EXTENSIONS.get(kind, ".bin")}"'
        },
    )


@bp.get("/archive/<int:entry_id>/rendered")
@allow("read", "auditor", "admin")
def archive_rendered(entry_id: int) -> ResponseReturnValue:
    """An archived email's HTML body or letter's pages, for a sandboxed frame. Audited."""
    session = db_session()
    keys = archive.keyring(services().settings)
    opened = archive.read_entry(session, entry_id, actor=person().email, keys=keys)
    session.commit()
    if opened.output is not None and opened.entry.content_type.startswith(LETTER_TYPE):
        return letter_frame(archived_pages(opened.output), f"Letter {entry_id} as sent")
    html = "<p>This output cannot be read any more.</p>"
    if opened.output is not None and opened.entry.content_type.startswith(EMAIL_TYPE):
        message = email.message_from_bytes(opened.output, policy=email.policy.default)
        body = message.get_body(("html", "plain"))
        if body is not None:
            text = body.get_content()
            html = text if body.get_content_subtype() == "html" else f"<pre>{escape(text)}</pre>"
    return Response(html, headers={"Content-Security-Policy": FRAME_POLICY})
