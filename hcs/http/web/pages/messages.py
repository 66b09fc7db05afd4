"""The message log for support staff: what was sent, to whom (if they may know), and its fate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.messages import log
from hcs.messages.erasure import ERASED, is_erased
from hcs.messages.masking import mask_recipient
from hcs.messages.status import MessageStatus
from templates_store.errors import ValidationFailed
from templates_store.models import CHANNELS

PAGE_SIZE = 50
KINDS = {"": None, "live": False, "test": True}  # messages of live keys, of test keys, or both
TEXT_FILTERS = ("status", "template", "channel", "batch_id", "reference")


def _day(name: str, errors: dict[str, str]) -> date | None:
    value = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        errors[name] = "use a date such as 2026-11-23"
        return None


def _filters() -> tuple[dict[str, str], log.LogFilters, dict[str, str]]:
    names = (*TEXT_FILTERS, "kind", "since", "until")
    args = {name: request.args.get(name, "").strip() for name in names}
    errors: dict[str, str] = {}
    if args["status"] and args["status"] not in set(MessageStatus):
        errors["status"] = "choose a status from the list"
    if args["channel"] and args["channel"] not in CHANNELS:
        errors["channel"] = "choose a channel from the list"
    if args["kind"] not in KINDS:
        errors["kind"] = "choose live or test"
    since, until = _day("since", errors), _day("until", errors)
    filters = log.LogFilters(
        **{name: args[name] or None for name in TEXT_FILTERS},
        is_test=KINDS.get(args["kind"]),
        created_after=datetime.combine(since, time(), UTC) if since else None,
        # Until a day means up to the end of that day.
        created_before=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
    )
    return args, filters, errors


def _row(message: Any, sees_recipients: bool) -> dict[str, Any]:
    if is_erased(message):
        return {"message": message, "to": ERASED}
    to = message.to if sees_recipients else mask_recipient(message.to)
    return {"message": message, "to": ", ".join(f"{k}: {v}" for k, v in to.items())}


@bp.get("/messages")
@allow("read", "admin", "auditor", "signoff")
def message_log() -> ResponseReturnValue:
    """Messages matching every filter, newest first; recipients masked for sign-off staff."""
    args, filters, errors = _filters()
    who = person()
    sees_recipients = who.sees_all_messages
    page = log.LogPage([], None)
    if not errors:
        try:
            page = log.search(
                db_session(),
                filters,
                requested_by=None,
                limit=PAGE_SIZE,
                cursor=request.args.get("cursor"),
            )
        except ValidationFailed:
            errors["cursor"] = "that page link is not valid; start again from the first page"
    next_args = {k: v for k, v in args.items() if v}
    return render_template(
        "pages/messages.html",
        rows=[_row(m, sees_recipients) for m in page.messages],
        next_args={**next_args, "cursor": page.next_cursor} if page.next_cursor else None,
        args=args,
        errors=errors,
        statuses=[s.value for s in MessageStatus],
        channels=CHANNELS,
        masked=not sees_recipients,
    )
