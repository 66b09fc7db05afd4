"""The sign-off queue: AI text awaiting a person, with its inputs and guardrail findings."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs import jobs
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session, notify_dispatcher, services
from hcs.http.signoff_view import ChannelView, channel_view, letter_pages
from hcs.http.web.pages import bp
from hcs.http.web.pages.editor import FRAME_POLICY
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.jobs import launch
from hcs.http.web.pages.letters import letter_frame
from hcs.http.web.pages.signoff_jobs import batch_job_work
from hcs.signoffs import queue, sampling
from hcs.signoffs.display import input_values, visible
from hcs.signoffs.models import SignoffItem
from templates_store.errors import Conflict, ValidationFailed

NO_STORE = {"Cache-Control": "no-store"}


def _view(item: SignoffItem) -> ChannelView | None:
    # The list renders no letter PDFs: each letter's pages come in its own frame.
    return channel_view(db_session(), item, services().settings, pages=False)


def _page(
    error: str = "",
    status: int = 200,
    kept: dict[int, dict[str, str]] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> ResponseReturnValue:
    """The queue; `kept` holds a refused edit's texts, `errors` its messages by field."""
    session = db_session()
    pending = queue.list_items(session)
    items = [(item, _view(item), input_values(session, item)) for item in pending]
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
    return page, status, NO_STORE


@bp.get("/signoffs")
@allow("signoff", "signoff")
def signoffs() -> ResponseReturnValue:
    """The pending AI texts, oldest first."""
    return _page()


@bp.get("/signoffs/<int:item_id>/frame")
@allow("signoff", "signoff")
def signoff_frame(item_id: int) -> ResponseReturnValue:
    """An email's HTML as the customer will get it, AI text marked, for a sandboxed frame."""
    view = _view(queue.get_item(db_session(), item_id))
    html = view.parts.get("html") if view is not None else None
    body = html or "<p>This message cannot be shown.</p>"
    return Response(body, headers={"Content-Security-Policy": FRAME_POLICY, **NO_STORE})


@bp.get("/signoffs/<int:item_id>/letter")
@allow("signoff", "signoff")
def signoff_letter(item_id: int) -> ResponseReturnValue:
    """A letter's pages as they will be printed, with the item's current slot texts."""
    item = queue.get_item(db_session(), item_id)
    pages = letter_pages(db_session(), item, services().settings)
    return letter_frame(pages, f"Letter of sign-off {item_id}")


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
