"""`/api/v1/batches`: a batch of messages as one thing: how many are in each status."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from hcs.http.api import message_schemas
from hcs.http.api import message_shapes as shapes
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session
from hcs.messages import log
from hcs.signoffs import withdrawal

blp = Blueprint(
    "batches",
    __name__,
    url_prefix="/api/v1/batches",
    description="Batches of messages sent together; list their messages with `batch_id`.",
)


@blp.route("/<batch_id>")
class OneBatch(MethodView):
    @allow("read", "admin", "auditor", "signoff")
    @blp.response(200, message_schemas.BatchOut)
    def get(self, batch_id: str) -> dict[str, Any]:
        """How many of a batch's messages are in each status."""
        session = db_session()
        counts = log.batch_counts(session, batch_id, requested_by=shapes.owner_filter(caller()))
        return {
            "id": batch_id,
            "created_at": log.batch_created_at(session, batch_id),
            "total": sum(counts.values()),
            "counts": counts,
        }


@blp.route("/<batch_id>/cancel")
class CancelBatch(MethodView):
    @allow("send", "admin")
    @blp.response(200, message_schemas.BatchCancelled)
    def post(self, batch_id: str) -> dict[str, Any]:
        """Cancel the messages of a batch that have not started to go out; 409 if none is left."""
        session, who = db_session(), caller()
        cancelled, left = withdrawal.cancel_batch(
            session, batch_id, requested_by=shapes.owner_filter(who), actor=who.email
        )
        session.commit()
        return {"id": batch_id, "cancelled": cancelled, "not_cancelled": left}
