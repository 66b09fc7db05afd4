"""The raw cost of an HTTP send: a bare Flask app that only validates the body and answers 202.

Same JSON bodies and the same boundary schemas as `/api/v1/messages`; no key, no database.
Served by gunicorn as `tests.perf.bare_app:create_app()`.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, request
from marshmallow import ValidationError

from hcs.http.api.message_schemas import BatchIn, SendIn

SEND, BATCH = SendIn(), BatchIn()


def _accepted() -> dict[str, str]:
    return {"id": "msg_" + uuid.uuid4().hex, "status": "accepted"}


def create_app() -> Flask:
    """The bare endpoints, at the same paths as the real ones."""
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/messages")
    def send() -> Any:
        try:
            SEND.load(request.get_json())
        except ValidationError as exc:
            return {"errors": exc.messages}, 422
        return _accepted(), 202

    @app.post("/api/v1/messages/batch")
    def batch() -> Any:
        try:
            body = BATCH.load(request.get_json())
        except ValidationError as exc:
            return {"errors": exc.messages}, 422
        messages = [_accepted() for _ in body["messages"]]
        return {"batch_id": "bat_" + uuid.uuid4().hex, "messages": messages}, 202

    return app
