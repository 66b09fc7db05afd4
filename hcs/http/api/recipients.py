"""`/api/v1/recipients/{recipient}/preferences`: consent per channel and category."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from hcs.http.api import message_schemas
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session
from hcs.messages.consent import preferences, set_preference
from hcs.messages.recipients import lookup_key

blp = Blueprint(
    "recipients",
    __name__,
    url_prefix="/api/v1/recipients",
    description="Recipients' consent: opt-ins and opt-outs.",
)


@blp.route("/<recipient>/preferences")
class Preferences(MethodView):
    @allow("read", "admin", "auditor")
    @blp.response(200, message_schemas.PreferenceOut(many=True))
    def get(self, recipient: str) -> list[Any]:
        """What a recipient chose (email address, E.164 number or chat id)."""
        return preferences(db_session(), lookup_key(recipient))

    @allow("send", "admin")
    @blp.arguments(message_schemas.PreferenceIn)
    @blp.response(200, message_schemas.PreferenceOut)
    def post(self, body: dict[str, Any], recipient: str) -> Any:
        """Record an opt-in (marketing needs one) or an opt-out (later sends are suppressed)."""
        session = db_session()
        choice = set_preference(
            session,
            lookup_key(recipient),
            body["channel"],
            body["category"],
            body["status"],
            source="api",
            actor=caller().email,
        )
        session.commit()
        return choice
