"""`/api/v1/messages`: what backend systems call to send, and read back status and events."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy.exc import IntegrityError

from hcs.api import schemas
from hcs.api.access import allow, caller
from hcs.api.blueprint import Blueprint
from hcs.delivery import accepting, idempotency
from hcs.delivery.models import Message
from hcs.extensions import db_session, notify_dispatcher
from templates_store.errors import NotFound

blp = Blueprint(
    "messages",
    __name__,
    url_prefix="/api/v1/messages",
    description="Sending messages, and what became of them.",
)

IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        }
    ]
}


def _idempotent(work: Any) -> tuple[dict[str, Any], int]:
    """Run `work()` once per Idempotency-Key: replay the first answer, refuse another body."""
    session, who = db_session(), caller().email
    key = request.headers.get("Idempotency-Key")
    if key is None:
        body = work()
        session.commit()
        return body, 202
    idempotency.check_key(key)
    digest = idempotency.request_hash(request.method, request.path, request.get_json())
    replay = idempotency.find(session, who, key, digest)
    if replay is not None:
        return replay.body, replay.status_code
    body = work()
    try:
        idempotency.remember(session, who, key, digest, 202, body)
        session.commit()
    except IntegrityError:  # the same key, at the same moment: the first one wins
        session.rollback()
        replay = idempotency.find(session, who, key, digest)
        if replay is None:
            raise
        return replay.body, replay.status_code
    return body, 202


# Instances, not classes: webargs would build a schema on every request.
SEND_IN, BATCH_IN = schemas.SendIn(), schemas.BatchIn()
ACCEPTED, BATCH_ACCEPTED = schemas.Accepted(), schemas.BatchAccepted()


@blp.route("")
class Messages(MethodView):
    @allow("send", "admin")
    @blp.arguments(SEND_IN)
    @blp.response(202, ACCEPTED)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Accept one message; it is rendered from the published version and sent once."""
        send = accepting.SendRequest(body["to"], body["data"], body.get("locale"))

        def work() -> dict[str, Any]:
            message = accepting.accept(
                db_session(),
                body["template"],
                body["channel"],
                send,
                version=body.get("version"),
                requested_by=caller().email,
            )
            return {"id": message.id, "status": message.status}

        answer, status = _idempotent(work)
        notify_dispatcher([answer["id"]])
        return answer, status


@blp.route("/batch")
class Batch(MethodView):
    @allow("send", "admin")
    @blp.arguments(BATCH_IN)
    @blp.response(202, BATCH_ACCEPTED)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Accept up to 1,000 messages of one template, all or none."""
        sends = [
            accepting.SendRequest(m["to"], m["data"], m.get("locale")) for m in body["messages"]
        ]

        def work() -> dict[str, Any]:
            accepted = accepting.accept_batch(
                db_session(),
                body["template"],
                body["channel"],
                sends,
                version=body.get("version"),
                requested_by=caller().email,
            )
            return {
                "batch_id": accepted[0].batch_id,
                "messages": [{"id": m.id, "status": m.status} for m in accepted],
            }

        answer, status = _idempotent(work)
        notify_dispatcher([m["id"] for m in answer["messages"]])
        return answer, status


@blp.route("/<message_id>")
class OneMessage(MethodView):
    @allow("read", "admin", "auditor", "signoff")
    @blp.response(200, schemas.MessageOut)
    def get(self, message_id: str) -> dict[str, Any]:
        """A message's status and its events."""
        message = db_session().get(Message, message_id)
        if message is None:
            raise NotFound(f"no message {message_id!r}")
        return {
            "id": message.id,
            "status": message.status,
            "reason": message.reason,
            "template": message.template_key,
            "version": message.version_number,
            "channel": message.channel,
            "category": message.category,
            "locale": message.locale,
            "to": message.to,
            "provider": message.provider,
            "provider_message_id": message.provider_message_id,
            "batch_id": message.batch_id,
            "created_at": message.created_at,
            "sent_at": message.sent_at,
            "events": [{"kind": e.kind, "at": e.at, "detail": e.detail} for e in message.events],
        }
