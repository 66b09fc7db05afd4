"""`/api/v1/webhooks`: status callback endpoints of the caller, their attempts, a test event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.views import MethodView

from hcs import archive
from hcs.callbacks import endpoints
from hcs.callbacks.events import chosen
from hcs.callbacks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hcs.dispatch.callbacks import CallbackOptions, deliver_due, webhook_id
from hcs.http.api import webhook_schemas as schemas
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, services
from hcs.http.idempotent import idempotent
from hcs.worker.runtime import worker_name

blp = Blueprint(
    "callbacks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Status callbacks: your HTTPS endpoints, signed after Standard Webhooks.",
)


def _keys() -> archive.Keyring:
    return archive.keyring(services().settings)


def _allow() -> tuple[str, ...]:
    return services().settings.webhook_allowed_hosts


def shown(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    """An endpoint as the API shows it; its secret only when just made."""
    out = {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": chosen(endpoint.events),
        "enabled": endpoint.enabled,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "previous_secret_until": endpoint.previous_until,
    }
    return out | ({"secret": secret} if secret is not None else {})


def attempt_shown(attempt: WebhookAttempt, delivery: WebhookDelivery) -> dict[str, Any]:
    """One attempt with its delivery's event and where the delivery stands."""
    return {
        "id": attempt.id,
        "webhook_id": webhook_id(delivery.id),
        "event": delivery.event,
        "message_id": delivery.message_id,
        "at": attempt.at,
        "status_code": attempt.status_code,
        "succeeded": attempt.succeeded,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
        "delivery_state": delivery.state,
        "next_attempt_at": None if delivery.done_at else delivery.available_at,
    }


@blp.route("")
class Endpoints(MethodView):
    @allow("send", "admin")
    @blp.response(200, schemas.EndpointOut(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Your endpoints (a person's serve their keys too; a system key's are its own)."""
        return [shown(e) for e in endpoints.list_endpoints(db_session(), owner=caller().email)]

    @allow("send", "admin")
    @blp.arguments(schemas.EndpointIn)
    @idempotent(secrets=("secret",))
    @blp.response(201, schemas.EndpointWithSecret)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register an endpoint; the answer holds its signing secret, shown this once."""
        session = db_session()
        made = endpoints.register(
            session, owner=caller().email, keys=_keys(), allow=_allow(), **body
        )
        session.commit()
        return shown(made.endpoint, made.secret)


@blp.route("/<endpoint_id>")
class OneEndpoint(MethodView):
    @allow("send", "admin")
    @blp.response(200, schemas.EndpointOut)
    def get(self, endpoint_id: str) -> dict[str, Any]:
        """One of your endpoints."""
        return shown(endpoints.get_endpoint(db_session(), endpoint_id, owner=caller().email))

    @allow("send", "admin")
    @blp.arguments(schemas.EndpointPatch)
    @blp.response(200, schemas.EndpointOut)
    def patch(self, body: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
        """Change an endpoint's URL, events, description, or pause it (`enabled`)."""
        session = db_session()
        endpoint = endpoints.update(
            session, endpoint_id, owner=caller().email, allow=_allow(), **body
        )
        session.commit()
        return shown(endpoint)

    @allow("send", "admin")
    @blp.response(204)
    def delete(self, endpoint_id: str) -> None:
        """Remove an endpoint, with what it was still owed and its attempts."""
        session = db_session()
        endpoints.remove(session, endpoint_id, owner=caller().email)
        session.commit()


@blp.route("/<endpoint_id>/rotate")
class Rotate(MethodView):
    @allow("send", "admin")
    @blp.arguments(schemas.RotateIn)
    @blp.response(200, schemas.EndpointWithSecret)
    def post(self, body: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
        """A new signing secret, shown once; the old one signs beside it for `grace_seconds`."""
        session, grace = db_session(), timedelta(seconds=body["grace_seconds"])
        made = endpoints.rotate(
            session, endpoint_id, owner=caller().email, keys=_keys(), grace=grace
        )
        session.commit()
        return shown(made.endpoint, made.secret)


@blp.route("/<endpoint_id>/attempts")
class Attempts(MethodView):
    @allow("send", "admin")
    @blp.arguments(schemas.AttemptQuery, location="query")
    @blp.response(200, schemas.AttemptOut(many=True))
    def get(self, query: dict[str, Any], endpoint_id: str) -> list[dict[str, Any]]:
        """The endpoint's latest delivery attempts, newest first."""
        found = endpoints.attempts(
            db_session(), endpoint_id, owner=caller().email, limit=query["limit"]
        )
        return [attempt_shown(a, d) for a, d in found]


@blp.route("/<endpoint_id>/test")
class TestEvent(MethodView):
    @allow("send", "admin")
    @blp.response(200, schemas.AttemptOut)
    def post(self, endpoint_id: str) -> dict[str, Any]:
        """Send a `webhook.test` event now; the attempt (a failure is retried like any other)."""
        session, options = db_session(), CallbackOptions.of(services().settings)
        delivery = endpoints.queue_test(
            session, endpoint_id, owner=caller().email, held_for=options.lease
        )
        session.commit()
        deliver_due(services().sessions, _keys(), options, owner=worker_name(), ids=[delivery.id])
        found = endpoints.attempts(
            session, endpoint_id, owner=caller().email, limit=1, delivery_id=delivery.id
        )
        return attempt_shown(*found[0])
