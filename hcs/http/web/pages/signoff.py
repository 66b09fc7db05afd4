"""The sign-off queue: AI text awaiting a person, with its inputs and guardrail findings."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from hcs import jobs
from hcs.ai.unicode import made_visible
from hcs.dispatch.finishing import render_message
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session, notify_dispatcher, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.jobs import launch
from hcs.http.web.pages.signoff_jobs import batch_job_work
from hcs.messages.models import Message
from hcs.signoffs import queue, sampling
from hcs.signoffs.display import input_values, visible
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
            shown[field] = Markup(made_visible(str(text)))
    return shown


def _page(
    error: str = "",
    status: int = 200,
    kept: dict[int, dict[str, str]] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> ResponseReturnValue:
    """The queue; `kept` holds a refused edit's texts, `errors` its messages by field."""
    session = db_session()
    pending = queue.list_items(session)
    items = [(item, highlighted(item), input_values(session, item)) for item in pending]
    campaigns = sorted({(item.template_key, item.version_number) for item in pending})
    page = render_template(
        "pages/signoffs.html",
        items=items,
        campaigns=campaigns,
        batches=[
            (b, sampling.sample_decisions(session, b)) for b in sampling.open_batches(session)
        ],
        error=error,
        kept=kept or {},
        field_errors=errors or {},
        visible=visible,
        sample_min=services().settings.signoff_sample_min,
    )
    # The page shows the customer data the model saw: never kept in a cache.
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/signoffs")
@allow("signoff", "signoff")
def signoffs() -> ResponseReturnValue:
    """The pending AI texts, oldest first."""
    return _page()


def _edits(item_id: int) -> dict[str, str]:
    """The slot texts the form changed (a slot the form leaves out is not an edit)."""
    item = queue.get_item(db_session(), item_id)
    edited = {name: request.form.get(f"slot.{name}") for name in item.slots}
    return {
        name: text
        for name, text in edited.items()
        if text is not None and text != item.slots[name].get("text")
    }


@bp.post("/signoffs/<int:item_id>/approve")
@allow("signoff", "signoff")
def approve_signoff(item_id: int) -> ResponseReturnValue:
    """Approve the AI text, with the person's edits if any (they pass the guardrails again)."""
    session = db_session()
    edits = _edits(item_id)
    try:
        item = queue.approve(
            session,
            item_id,
            reviewer=person().email,
            edits=edits,
            comment=request.form.get("comment", "").strip(),
            acknowledged=request.form.getlist("acknowledged"),
        )
    except Conflict as exc:
        session.rollback()
        return _page(str(exc), status_of(exc))
    except ValidationFailed as exc:
        session.rollback()
        errors = {f"{item_id}.{k}": v for k, v in exc.errors.items()}
        return _page(str(exc), status_of(exc), {item_id: edits}, errors)
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


def _refused(exc: Conflict | ValidationFailed) -> ResponseReturnValue:
    db_session().rollback()
    return _page(str(exc), status_of(exc))


@bp.post("/signoffs/batch")
@allow("signoff", "signoff")
def draw_signoff_sample() -> ResponseReturnValue:
    """Fix the pending set of a template version and draw the sample to decide one by one."""
    session, settings = db_session(), services().settings
    template = request.form.get("template", "")
    version = request.form.get("version", type=int) or 0
    try:
        batch = sampling.draw(
            session, template, version, reviewer=person().email, minimum=settings.signoff_sample_min
        )
    except (Conflict, ValidationFailed) as exc:
        return _refused(exc)
    session.commit()
    flash(
        f"Batch {batch.id}: decide the {len(batch.sample_ids)} sampled message(s) one by one, "
        f"then approve the rest of its {len(batch.item_ids)}."
    )
    return redirect(url_for("pages.signoffs"))


@bp.post("/signoffs/batches/<int:batch_id>/approve")
@allow("signoff", "signoff")
def batch_signoff(batch_id: int) -> ResponseReturnValue:
    """Approve the rest of a batch once each sampled message was approved after the draw."""
    session = db_session()
    comment = request.form.get("comment", "").strip()
    try:
        planned = batch_job_work(batch_id, comment)
        if planned is not None:
            title, total, work = planned
            job = jobs.start_job(
                session, kind="signoff_batch", owner=person().email, title=title, total=total
            )
            session.commit()
            return launch(job.id, work)
        released = sampling.approve_batch(
            session, batch_id, reviewer=person().email, comment=comment
        )
    except (Conflict, ValidationFailed) as exc:
        return _refused(exc)
    session.commit()
    notify_dispatcher([item.message_id for item in released])
    flash(f"{len(released)} message(s) of batch {batch_id} approved together.")
    return redirect(url_for("pages.signoffs"))
