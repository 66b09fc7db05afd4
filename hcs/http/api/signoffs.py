"""`/api/v1/signoffs`: the human sign-off queue for messages carrying AI text."""

from __future__ import annotations

from typing import Any

from flask import make_response
from flask.views import MethodView

from hcs.http.api import signoff_schemas
from hcs.http.api.blueprint import Blueprint, ListPage
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, notify_dispatcher, services
from hcs.http.idempotent import idempotent
from hcs.http.signoff_view import channel_view
from hcs.messages.models import Message
from hcs.signoffs import queue, sampling
from hcs.signoffs.display import input_values, visible
from hcs.signoffs.models import SignoffBatch, SignoffItem

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
    "final_findings",
    "digest",
    "system_prompt",
)


def _view(item: SignoffItem) -> dict[str, Any]:
    """The message on its channel: parts with AI text in `<mark>`, SMS segments, letter pages."""
    view = channel_view(db_session(), item, services().settings)
    if view is None:
        return {"rendered": None, "channel_details": None}
    return {"rendered": view.parts, "channel_details": view.details, "locale": view.locale}


def _where(item: SignoffItem) -> dict[str, Any]:
    message = db_session().get_one(Message, item.message_id)
    return {"channel": message.channel, "locale": message.locale}


def _slots(item: SignoffItem, full: bool) -> list[dict[str, Any]]:
    values = input_values(db_session(), item) if full else {}
    return [
        {
            "name": name,
            **{key: slot.get(key) for key in SLOT_FIELDS},
            "visible_text": visible(slot.get("text")),
            "visible_generated": visible(slot.get("generated")),
            "input_values": visible(values.get(name)) if full else None,
        }
        for name, slot in item.slots.items()
    ]


def shown(item: SignoffItem, *, full: bool = False) -> dict[str, Any]:
    """An item as reviewers see it; `full`: with the rendered message and the input values."""
    return {
        "id": item.id,
        "message_id": item.message_id,
        "template": item.template_key,
        "version": item.version_number,
        **_where(item),
        "status": item.status,
        "flagged": item.is_flagged,
        "slots": _slots(item, full),
        **(_view(item) if full else {"rendered": None, "channel_details": None}),
        "finding_codes": queue.finding_codes(item),
        "acknowledged": item.acknowledged or [],
        "decided_by": item.decided_by,
        "decided_at": item.decided_at,
        "comment": item.comment,
        "created_at": item.created_at,
        "expires_at": item.expires_at,
    }


@blp.route("")
class Queue(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(signoff_schemas.SignoffQuery, location="query")
    @blp.response(200, signoff_schemas.SignoffOut(many=True))
    @blp.paginate(ListPage)
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages waiting for a person (or decided ones, by status), oldest first."""
        return [shown(i) for i in queue.list_items(db_session(), **query)]


@blp.route("/<int:item_id>")
class OneItem(MethodView):
    @allow("signoff", "signoff")
    @blp.response(200, signoff_schemas.SignoffOut)
    def get(self, item_id: int) -> dict[str, Any]:
        """One message: AI text highlighted, the input values it saw, the findings (no-store)."""
        return shown(queue.get_item(db_session(), item_id), full=True)

    def dispatch_request(self, *args: Any, **kwargs: Any) -> Any:
        """The detail carries customer data: never kept in a cache."""
        answer = make_response(super().dispatch_request(*args, **kwargs))
        answer.headers["Cache-Control"] = "no-store"
        return answer


@blp.route("/<int:item_id>/approve")
class Approve(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(signoff_schemas.SignoffDecision)
    @blp.response(200, signoff_schemas.SignoffOut)
    def post(self, body: dict[str, Any], item_id: int) -> dict[str, Any]:
        """Approve, optionally with edited slot texts (which pass the guardrails again)."""
        session = db_session()
        item = queue.approve(
            session,
            item_id,
            reviewer=caller().email,
            edits=body.get("slots"),
            comment=body["comment"],
            acknowledged=body["acknowledged"],
        )
        session.commit()
        notify_dispatcher([item.message_id])
        return shown(item)


@blp.route("/<int:item_id>/reject")
class Reject(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(signoff_schemas.SignoffDecision)
    @blp.response(200, signoff_schemas.SignoffOut)
    def post(self, body: dict[str, Any], item_id: int) -> dict[str, Any]:
        """Reject: the message is never sent."""
        session = db_session()
        item = queue.reject(session, item_id, reviewer=caller().email, comment=body["comment"])
        session.commit()
        return shown(item)


def _batch(batch: SignoffBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "template": batch.template_key,
        "version": batch.version_number,
        "up_to": batch.up_to,
        "status": batch.status,
        "set": batch.item_ids,
        "sample": batch.sample_ids,
        "decisions": sampling.sample_decisions(db_session(), batch),
        "plan": batch.plan,
        "drawn_by": batch.drawn_by,
        "drawn_at": batch.drawn_at,
    }


@blp.route("/batches")
class Batches(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(signoff_schemas.BatchDraw)
    @idempotent()
    @blp.response(201, signoff_schemas.SignoffBatchOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Fix a set of pending items and draw its sample, to be decided one by one."""
        session = db_session()
        batch = sampling.draw(
            session,
            body["template"],
            body["version"],
            reviewer=caller().email,
            minimum=services().settings.signoff_sample_min,
            up_to=body["up_to"],
            message_batch=body["message_batch"],
        )
        session.commit()
        return _batch(batch)


@blp.route("/batches/<int:batch_id>")
class OneBatch(MethodView):
    @allow("signoff", "signoff")
    @blp.response(200, signoff_schemas.SignoffBatchOut)
    def get(self, batch_id: int) -> dict[str, Any]:
        """A batch: its set, its sample and the decisions on it so far."""
        return _batch(sampling.get_batch(db_session(), batch_id))


@blp.route("/batches/<int:batch_id>/approve")
class BatchApprove(MethodView):
    @allow("signoff", "signoff")
    @blp.arguments(signoff_schemas.BatchSignoff)
    @blp.response(200, signoff_schemas.BatchSignoffOut)
    def post(self, body: dict[str, Any], batch_id: int) -> dict[str, Any]:
        """Approve the rest of the set, once each sampled item was approved after the draw."""
        session = db_session()
        released = sampling.approve_batch(
            session, batch_id, reviewer=caller().email, comment=body["comment"]
        )
        session.commit()
        notify_dispatcher([item.message_id for item in released])
        return {"approved": len(released), "batch": batch_id}
