"""`/api/v1/messages`: what backend systems call to send, and read back status and events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy.exc import IntegrityError

from hcs.http.api import schemas
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import READS_ON, allow, caller
from hcs.http.extensions import db_session, notify_dispatcher
from hcs.infrastructure.db import begin_read, end_read
from hcs.messages import accepting, idempotency
from hcs.messages.models import Message
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


def _answer(planned: accepting.Plan, accepted: list[accepting.Accepted]) -> dict[str, Any]:
    if planned.batch_id is None:
        return {"id": accepted[0].id, "status": accepted[0].status}
    return {
        "batch_id": planned.batch_id,
        "messages": [{"id": m.id, "status": m.status} for m in accepted],
    }


def _send(planning: Callable[[], accepting.Plan]) -> tuple[dict[str, Any], int]:
    """Plan the messages in a read, then write them, once per Idempotency-Key.

    The same key with the same body replays the first answer; another body is refused. On
    SQLite the reads take no write lock: only the INSERTs and the commit hold it.
    """
    session, who = db_session(), caller().email
    key = request.headers.get("Idempotency-Key")
    digest = ""
    begin_read(session)
    if key is not None:
        idempotency.check_key(key)
        digest = idempotency.request_hash(request.method, request.path, request.get_json())
        replay = idempotency.find(session, who, key, digest)
        if replay is not None:
            return replay.body, replay.status_code
    planned = planning()
    end_read(session)
    accepted = accepting.write(session, planned)
    body = _answer(planned, accepted)
    try:
        if key is not None:
            idempotency.remember(session, who, key, digest, 202, body)
        session.commit()
    except IntegrityError:  # the same key, at the same moment: the first one wins
        session.rollback()
        replay = idempotency.find(session, who, key, digest) if key is not None else None
        if replay is None:
            raise
        return replay.body, replay.status_code
    notify_dispatcher([m.id for m in accepted])
    return body, 202


# The send views read on in the key check's transaction (one read, then the write).
READS_ON.update({"messages.Messages", "messages.Batch"})

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
        return _send(
            lambda: accepting.plan(
                db_session(),
                body["template"],
                body["channel"],
                [send],
                version=body.get("version"),
                requested_by=caller().email,
            )
        )


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
        return _send(
            lambda: accepting.plan(
                db_session(),
                body["template"],
                body["channel"],
                sends,
                version=body.get("version"),
                requested_by=caller().email,
                batch=True,
            )
        )


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
