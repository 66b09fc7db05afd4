"""`/api/v1/messages`: what backend systems call to send, and read back status and events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy.exc import IntegrityError

from hcs.dispatch.retrying import retry_one
from hcs.http import idempotent
from hcs.http.api import message_schemas
from hcs.http.api import message_shapes as shapes
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import READS_ON, allow, caller
from hcs.http.extensions import db_session, notify_dispatcher, services
from hcs.infrastructure.db import autocommit_next, begin_read
from hcs.messages import accepting, log, resolving, scheduling
from hcs.messages.models import Message
from hcs.signoffs import withdrawal

blp = Blueprint(
    "messages",
    __name__,
    url_prefix="/api/v1/messages",
    description="Sending messages, and what became of them.",
)

IDEMPOTENCY_DOC = {"parameters": [idempotent.HEADER]}


def _answer(planned: accepting.Plan, accepted: list[accepting.Accepted]) -> dict[str, Any]:
    shown = [
        {"id": m.id, "status": m.status, "reference": row["reference"]}
        for m, row in zip(accepted, planned.rows, strict=True)
    ]
    if planned.batch_id is None:
        return shown[0]
    return {"batch_id": planned.batch_id, "messages": shown}


Answer = tuple[dict[str, Any], int] | Response


def _send(planning: Callable[[], accepting.Plan], *, single: bool = False) -> Answer:
    """Plan the messages in a read, then write them, once per Idempotency-Key.

    The same key with the same body replays the first answer; another body is refused. On
    SQLite the reads take no write lock: only the INSERTs and the commit hold it. On PostgreSQL
    a single send with no key reads and writes in autocommit: its write is one statement.
    """
    session, key = db_session(), idempotent.asked()
    if single and key is None:
        autocommit_next(session)
    begin_read(session)
    if key is not None and (replay := key.replay(session)) is not None:
        return replay
    planned = planning()
    accepted = accepting.write(session, planned)  # ends the read, then writes
    body = _answer(planned, accepted)
    try:
        if key is not None:
            key.remember(session, 202, body)
        session.commit()
    except IntegrityError:  # the same key, at the same moment: the first one wins
        if key is None:
            raise
        return key.raced(session)
    # Scheduled messages wait in the outbox: the sweep hands them over when they are due.
    notify_dispatcher(
        [m.id for m, r in zip(accepted, planned.rows, strict=True) if not r["send_at"]]
    )
    return body, 202


def _request(body: dict[str, Any]) -> accepting.SendRequest:
    """One message of a send's body as the domain takes it."""
    return accepting.SendRequest(
        body["to"], body["data"], body.get("locale"), body.get("reference"), body.get("metadata")
    )


def _scheduled(body: dict[str, Any]) -> datetime | None:
    """The body's `send_at` within the horizon, or `None` to send now."""
    horizon = timedelta(seconds=services().settings.send_at_horizon_seconds)
    return scheduling.scheduled_for(body.get("send_at"), horizon=horizon)


# The send views read on in the key check's transaction (one read, then the write).
READS_ON.update({"messages.Messages", "messages.Batch"})

# Instances, not classes: webargs would build a schema on every request.
SEND_IN, BATCH_IN = message_schemas.SendIn(), message_schemas.BatchIn()
ACCEPTED, BATCH_ACCEPTED = message_schemas.Accepted(), message_schemas.BatchAccepted()


@blp.route("")
class Messages(MethodView):
    @allow("read", "admin", "auditor", "signoff")
    @blp.arguments(message_schemas.MessageQuery, location="query")
    @blp.response(200, message_schemas.MessagePage)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The message log, newest first: everyone's for admins and auditors, else the caller's."""
        limit, cursor = query.pop("limit"), query.pop("cursor", None)
        query["is_test"] = query.pop("test", None)
        page = log.search(
            db_session(),
            log.LogFilters(**query),
            requested_by=shapes.owner_filter(caller()),
            limit=limit,
            cursor=cursor,
        )
        return {
            "items": [shapes.summary(m) for m in page.messages],
            "next_cursor": page.next_cursor,
        }

    @allow("send", "admin")
    @blp.arguments(SEND_IN)
    @blp.response(202, ACCEPTED)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, body: dict[str, Any]) -> Answer:
        """Accept one message; it is rendered from the published version and sent once."""
        send, send_at = _request(body), _scheduled(body)
        return _send(
            lambda: accepting.plan(
                db_session(),
                body["template"],
                body["channel"],
                [send],
                version=body.get("version"),
                requested_by=caller().email,
                send_at=send_at,
                is_test=caller().is_test,
            ),
            single=True,
        )


@blp.route("/batch")
class Batch(MethodView):
    @allow("send", "admin")
    @blp.arguments(BATCH_IN)
    @blp.response(202, BATCH_ACCEPTED)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, body: dict[str, Any]) -> Answer:
        """Accept up to 1,000 messages of one template, all or none."""
        sends, send_at = [_request(m) for m in body["messages"]], _scheduled(body)
        return _send(
            lambda: accepting.plan(
                db_session(),
                body["template"],
                body["channel"],
                sends,
                version=body.get("version"),
                requested_by=caller().email,
                batch=True,
                send_at=send_at,
                is_test=caller().is_test,
            )
        )


@blp.route("/<message_id>")
class OneMessage(MethodView):
    @allow("read", "admin", "auditor", "signoff")
    @blp.response(200, message_schemas.MessageOut)
    def get(self, message_id: str) -> dict[str, Any]:
        """A message's status and its events."""
        message = db_session().get(Message, message_id)
        return shapes.detail(shapes.check_visible(caller(), message, message_id))


@blp.route("/<message_id>/cancel")
class CancelMessage(MethodView):
    @allow("send", "admin")
    @blp.response(200, message_schemas.MessageOut)
    def post(self, message_id: str) -> dict[str, Any]:
        """Cancel a message that has not started to go out; 409 once it is sending or past it."""
        session, who = db_session(), caller()
        shapes.check_visible(who, session.get(Message, message_id), message_id)
        withdrawal.cancel(session, message_id, actor=who.email)
        session.commit()
        return shapes.detail(
            shapes.check_visible(who, session.get(Message, message_id), message_id)
        )


@blp.route("/<message_id>/resolve")
class ResolveMessage(MethodView):
    @allow("admin", "admin")
    @blp.arguments(message_schemas.ResolveIn)
    @blp.response(200, message_schemas.MessageOut)
    def post(self, body: dict[str, Any], message_id: str) -> dict[str, Any]:
        """Settle an `unknown` message: `sent`, `resend` (marked possible_duplicate) or `fail`."""
        session, who = db_session(), caller()
        resolving.resolve(session, message_id, body["outcome"], actor=who.email)
        session.commit()
        if body["outcome"] == "resend":
            notify_dispatcher([message_id])
        return shapes.detail(
            shapes.check_visible(who, session.get(Message, message_id), message_id)
        )


@blp.route("/<message_id>/retry")
class RetryMessage(MethodView):
    @allow("admin", "admin")
    @blp.response(200, message_schemas.MessageOut)
    def post(self, message_id: str) -> dict[str, Any]:
        """Queue a `failed` message again (audited); 409 unless it failed before any provider took
        it, since a bounce after sending would make another copy a duplicate."""
        session, who = db_session(), caller()
        retry_one(session, message_id, actor=who.email)
        session.commit()
        notify_dispatcher([message_id])
        return shapes.detail(
            shapes.check_visible(who, session.get(Message, message_id), message_id)
        )
