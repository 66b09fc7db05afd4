"""The sign-off queue: AI text awaiting a person, with its inputs and guardrail findings."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from hcs import jobs
from hcs.dispatch.finishing import render_message
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session, notify_dispatcher, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.jobs import launch
from hcs.http.web.pages.signoff_jobs import batch_job_work
from hcs.messages.models import Message
from hcs.signoffs import queue
from hcs.signoffs.models import SignoffItem
from templates_store.errors import Conflict, TemplateProblem, ValidationFailed

BLOCKED = "[blocked by a guardrail]"


def highlighted(item: SignoffItem) -> dict[str, Markup]:
    """The message's text parts as they would go out, each AI text inside `<mark>`."""
    session = db_session()
    message = session.get_one(Message, item.message_id)
    # Render with placeholders, escape everything, then put each slot's escaped text back marked.
    tokens = {name: f"\x00{index}\x00" for index, name in enumerate(item.slots)}
    try:
        rendered = render_message(session, message, services().settings, slot_text=tokens)
    except TemplateProblem:
        return {}
    shown = {}
    for field, value in rendered.parts.items():
        if isinstance(value, str) and field not in ("html", "css"):
            text = escape(value)
            for name, token in tokens.items():
                slot = escape(item.slots[name].get("text") or BLOCKED)
                text = text.replace(
                    token, Markup(f'<mark data-ai-slot="{escape(name)}">{slot}</mark>')
                )
            shown[field] = text
    return shown


def _page(error: str = "", status: int = 200) -> ResponseReturnValue:
    pending = queue.list_items(db_session())
    items = [(item, highlighted(item)) for item in pending]
    campaigns = sorted({(item.template_key, item.version_number) for item in pending})
    return render_template(
        "pages/signoffs.html", items=items, campaigns=campaigns, error=error
    ), status


@bp.get("/signoffs")
@allow("signoff", "signoff")
def signoffs() -> ResponseReturnValue:
    """The pending AI texts, oldest first."""
    return _page()


def _edits(item_id: int) -> dict[str, str]:
    item = queue.get_item(db_session(), item_id)
    edited = {name: request.form.get(f"slot.{name}", "") for name in item.slots}
    return {name: text for name, text in edited.items() if text != item.slots[name].get("text")}


@bp.post("/signoffs/<int:item_id>/approve")
@allow("signoff", "signoff")
def approve_signoff(item_id: int) -> ResponseReturnValue:
    """Approve the AI text, with the person's edits if any (they pass the guardrails again)."""
    session = db_session()
    try:
        item = queue.approve(
            session,
            item_id,
            reviewer=person().email,
            edits=_edits(item_id),
            comment=request.form.get("comment", "").strip(),
        )
    except (Conflict, ValidationFailed) as exc:
        session.rollback()
        return _page(str(exc), status_of(exc))
    session.commit()
    notify_dispatcher([item.message_id])
    flash(f"Sign-off {item_id} approved.")
    return redirect(url_for("pages.signoffs"))


@bp.post("/signoffs/<int:item_id>/reject")
@allow("signoff", "signoff")
def reject_signoff(item_id: int) -> ResponseReturnValue:
    """Reject the AI text: the message is never sent."""
    session = db_session()
    try:
        queue.reject(
            session,
            item_id,
            reviewer=person().email,
            comment=request.form.get("comment", "").strip(),
        )
    except (Conflict, ValidationFailed) as exc:
        session.rollback()
        return _page(str(exc), status_of(exc))
    session.commit()
    flash(f"Sign-off {item_id} rejected.")
    return redirect(url_for("pages.signoffs"))


@bp.post("/signoffs/batch")
@allow("signoff", "signoff")
def batch_signoff() -> ResponseReturnValue:
    """Approve the rest of a campaign once its sample and every flagged message were decided."""
    session, settings = db_session(), services().settings
    template = request.form.get("template", "")
    version = request.form.get("version", type=int) or 0
    try:
        planned = batch_job_work(template, version, request.form.get("comment", "").strip())
        if planned is not None:
            title = f"Approve the rest of {template} v{version}"
            job = jobs.start_job(
                session, kind="signoff_batch", owner=person().email, title=title, total=planned[0]
            )
            session.commit()
            return launch(job.id, planned[1])
        released = queue.batch_approve(
            session,
            template,
            version,
            reviewer=person().email,
            rule=queue.SampleRule(settings.signoff_sample_min, settings.signoff_sample_percent),
            comment=request.form.get("comment", "").strip(),
        )
    except (Conflict, ValidationFailed) as exc:
        session.rollback()
        return _page(str(exc), status_of(exc))
    session.commit()
    notify_dispatcher([item.message_id for item in released])
    flash(f"{len(released)} message(s) of {template} v{version} approved together.")
    return redirect(url_for("pages.signoffs"))
