"""Schemas of status callback endpoints and their delivery attempts; `load()` raises."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from hcs.callbacks.events import EVENTS

GRACE_MAX = 7 * 86400


def _printable(value: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError("control characters are not allowed")


URL = {
    "description": "an https:// URL on a public address (http only for HCS_WEBHOOK_ALLOWED_HOSTS)"
}
EVENT_LIST = {"description": "the events to receive: " + ", ".join(EVENTS)}


def _events(required: bool) -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.OneOf(EVENTS)),
        required=required,
        validate=validate.Length(min=1, max=len(EVENTS)),
        metadata=EVENT_LIST,
    )


class EndpointIn(Schema):
    url = fields.String(
        required=True, validate=[validate.Length(min=1, max=2048), _printable], metadata=URL
    )
    events = _events(required=True)
    description = fields.String(load_default="", validate=[validate.Length(max=200), _printable])


class EndpointPatch(Schema):
    url = fields.String(validate=[validate.Length(min=1, max=2048), _printable], metadata=URL)
    events = _events(required=False)
    description = fields.String(validate=[validate.Length(max=200), _printable])
    enabled = fields.Boolean()


class EndpointOut(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    previous_secret_until = fields.DateTime(
        allow_none=True,
        metadata={"description": "after a rotation, the old secret also signs until then"},
    )


class EndpointWithSecret(EndpointOut):
    secret = fields.String(
        required=True,
        metadata={"description": "the whsec_ signing secret: shown this once, store it now"},
    )


class RotateIn(Schema):
    grace_seconds = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=GRACE_MAX),
        metadata={
            "description": "how long the old secret keeps signing beside the new one (0: stops now)"
        },
    )


class AttemptQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class AttemptOut(Schema):
    id = fields.Integer(required=True)
    webhook_id = fields.String(required=True, metadata={"description": "the webhook-id header"})
    event = fields.String(required=True)
    message_id = fields.String(allow_none=True)
    at = fields.DateTime(required=True)
    status_code = fields.Integer(allow_none=True)
    succeeded = fields.Boolean(required=True)
    error = fields.String(required=True)
    duration_ms = fields.Integer(required=True)
    delivery_state = fields.String(
        required=True, metadata={"description": "pending (retried later), delivered or failed"}
    )
    next_attempt_at = fields.DateTime(allow_none=True)
