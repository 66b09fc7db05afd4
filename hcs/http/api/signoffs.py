"""`/api/v1/signoffs`: the human sign-off queue for messages carrying AI text."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from markupsafe import Markup, escape

from hcs.dispatch.finishing import render_message
from hcs.http.api import schemas
from hcs.http.api.blueprint import Blueprint, ListPage
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, notify_dispatcher, services
from hcs.messages.models import Message
from hcs.signoffs import queue
from hcs.signoffs.models import SignoffItem
from templates_store.errors import TemplateProblem

blp = Blueprint(
    "signoffs",
    __name__,
    url_prefix="/api/v1/signoffs",
    description="Sign-off of AI-personalized messages by a person.",
)
SLOT_FIELDS = (
    "text",
    "generated",
    "used_fallback",
    "blocked",
    "flagged",
    "instruction",
    "inputs",
    "findings",
    "provider",
    "model",
)


def _highlighted(item: SignoffItem) -> dict[str, Any] | None:
    """The message as it would go out, each slot's text inside `<mark data-ai-slot=...>`."""
    session = db_session()
    message = session.get_one(Message, item.message_id)
    marked = {
        name: Markup(f'<mark data-ai-slot="{escape(name)}">')
        + escape(slot.get("text") or "[blocked by a guardrail]")
        + Markup("</mark>")
        for name, slot in item.slots.items()
    }
    try:
        rendered = render_message(session, message, services().settings, slot_text=marked)
    except TemplateProblem:
        return None
    return rendered.parts


def shown(item: SignoffItem, *, full: bool = False) -> dict[str, Any]:
    """An item as reviewers see it."""
    return {
        "id": item.id,
        "message_id": item.message_id,
        "template": item.template_key,
        "version": item.version_number,
        "status": item.status,
        "flagged": item.is_flagged,
        "slots": [{"name": n, **{k: s.get(k) for k in SLOT_FIELDS}} for n, s in item.slots.items()],
        "rendered": _highlighted(item) if full else None,
        "decided_by": item.decided_by,
        "decided_at": item.decided_at,
        "comment": item.comment,
        "created_at": item.created_at,
        "expires_at": item.expires_at,
    }


@blp.route("")
class Queue(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(schemas.SignoffQuery, location="query")
    @blp.response(200, schemas.SignoffOut(many=True))
    @blp.paginate(ListPage)
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages waiting for a person (or decided ones, by status), oldest first."""
        return [shown(i) for i in queue.list_items(db_session(), **query)]


@blp.route("/<int:item_id>")
class OneItem(MethodView):
    @allow("signoff", "signoff")
    @blp.response(200, schemas.SignoffOut)
    def get(self, item_id: int) -> dict[str, Any]:
        """One message: its AI text highlighted, the inputs it saw, the guardrail findings."""
        return shown(queue.get_item(db_session(), item_id), full=True)


@blp.route("/<int:item_id>/approve")
class Approve(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(schemas.SignoffDecision)
    @blp.response(200, schemas.SignoffOut)
    def post(self, body: dict[str, Any], item_id: int) -> dict[str, Any]:
        """Approve, optionally with edited slot texts (which pass the guardrails again)."""
        session = db_session()
        item = queue.approve(
            session,
            item_id,
            reviewer=caller().email,
            edits=body.get("slots"),
            comment=body["comment"],
        )
        session.commit()
        notify_dispatcher([item.message_id])
        return shown(item)


@blp.route("/<int:item_id>/reject")
class Reject(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(schemas.SignoffDecision)
    @blp.response(200, schemas.SignoffOut)
    def post(self, body: dict[str, Any], item_id: int) -> dict[str, Any]:
        """Reject: the message is never sent."""
        session = db_session()
        item = queue.reject(session, item_id, reviewer=caller().email, comment=body["comment"])
        session.commit()
        return shown(item)


@blp.route("/batch-approve")
class BatchApprove(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(schemas.BatchSignoff)
    @blp.response(200, schemas.BatchSignoffOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Approve the rest of a campaign, once a sample and every flagged one were decided."""
        session, settings = db_session(), services().settings
        released = queue.batch_approve(
            session,
            body["template"],
            body["version"],
            reviewer=caller().email,
            rule=queue.SampleRule(settings.signoff_sample_min, settings.signoff_sample_percent),
            comment=body["comment"],
        )
        session.commit()
        notify_dispatcher([item.message_id for item in released])
        return {"approved": len(released)}
