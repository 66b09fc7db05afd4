"""The message log for support staff: what was sent, to whom (if they may know), and its fate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.dispatch.retrying import retry_one, why_not_again
from hcs.http.auth import allow
from hcs.http.extensions import db_session, notify_dispatcher
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.messages import log, resolving
from hcs.messages.erasure import ERASED, is_erased
from hcs.messages.masking import mask_recipient
from hcs.messages.models import Message
from hcs.messages.status import MessageStatus
from templates_store.errors import InvalidTransition, NotFound, ValidationFailed
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


# What an admin may say became of a message whose send is in doubt, as the form offers it.
SETTLEMENTS = {
    "sent": "The provider took it: mark it sent",
    "resend": "Send it again, marked as a possible duplicate: the customer may get it twice",
    "fail": "It did not go out: mark it failed",
}
SETTLED = {"sent": "marked sent", "resend": "queued to be sent again", "fail": "marked failed"}
AWAITING_PERSON = "awaiting_resolution"


def _message_page(
    message_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    message = db_session().get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}")
    who = person()
    events = list(message.events)
    in_doubt = message.status == MessageStatus.UNKNOWN
    page = render_template(
        "pages/message.html",
        row=_row(message, who.sees_all_messages),
        events=events,
        in_doubt=in_doubt,
        awaits_person=in_doubt and bool(events) and events[-1].kind == AWAITING_PERSON,
        may_settle=in_doubt and "admin" in who.roles,
        may_retry=message.status == MessageStatus.FAILED
        and why_not_again(message) is None
        and "admin" in who.roles,
        settlements=SETTLEMENTS,
        chosen=request.form.get("outcome", "") if request.method == "POST" else "",
        errors=errors or {},
        masked=not who.sees_all_messages,
    )
    return page, status


@bp.get("/messages/<message_id>")
@allow("read", "admin", "auditor", "signoff")
def message_page(message_id: str) -> ResponseReturnValue:
    """One message: its facts, its events, and for admins, settling it when its send is in doubt."""
    return _message_page(message_id)


@bp.post("/messages/<message_id>/settle")
@allow("admin", "admin")
def settle_message(message_id: str) -> ResponseReturnValue:
    """An admin says what became of a message whose send is in doubt (audited)."""
    outcome = request.form.get("outcome", "")
    if outcome not in SETTLEMENTS:
        error = "choose what became of it: sent, send it again, or failed"
        return _message_page(message_id, {"outcome": error}, 400)
    session = db_session()
    try:
        resolving.resolve(session, message_id, outcome, actor=person().email)
    except InvalidTransition as exc:  # settled by someone else meanwhile, or never in doubt
        session.rollback()
        return _message_page(message_id, {"outcome": f"{exc}: nothing was changed"}, 409)
    session.commit()
    if outcome == "resend":
        notify_dispatcher([message_id])
    flash(f"Message {message_id} {SETTLED[outcome]}.")
    return redirect(url_for("pages.message_page", message_id=message_id))


@bp.post("/messages/<message_id>/retry")
@allow("admin", "admin")
def retry_message(message_id: str) -> ResponseReturnValue:
    """An admin queues a failed message again (audited)."""
    session = db_session()
    try:
        retry_one(session, message_id, actor=person().email)
    except InvalidTransition as exc:  # retried by someone else meanwhile, or sent once already
        session.rollback()
        return _message_page(message_id, {"retry": f"{exc}: nothing was changed"}, 409)
    session.commit()
    notify_dispatcher([message_id])
    flash(f"Message {message_id} queued to be sent again.")
    return redirect(url_for("pages.message_page", message_id=message_id))
