"""Schemas of sends, the message log, batches, preferences and recalls; `load()` raises."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from hcs.http.api.schemas import KEY, LOCALE
from hcs.messages.status import MessageStatus
from templates_store.models import CATEGORIES, CHANNELS

METADATA_BYTES, METADATA_KEYS = 4096, 20


def _small_object(value: dict[str, Any]) -> None:
    """Refuse metadata past 20 keys or 4 KB of JSON: it rides along with every message."""
    if len(value) > METADATA_KEYS:
        raise ValidationError(f"at most {METADATA_KEYS} keys")
    if len(json.dumps(value, separators=(",", ":")).encode()) > METADATA_BYTES:
        raise ValidationError(f"at most {METADATA_BYTES} bytes as JSON")


class CallerFields(Schema):
    reference = fields.String(
        validate=validate.Length(min=1, max=255),
        metadata={"description": "your own id for the message; filter the log by it"},
    )
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        validate=_small_object,
        metadata={"description": "your own JSON object (20 keys, 4 KB), never rendered"},
    )


SEND_AT = {
    "description": "RFC 3339 with an offset; at most HCS_SEND_AT_HORIZON ahead; past: sent now"
}


class SendIn(CallerFields):
    template = fields.String(required=True, validate=KEY)
    send_at = fields.AwareDateTime(metadata=SEND_AT)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    to = fields.Dict(required=True, metadata={"description": "email, phone, chat or address"})
    data = fields.Dict(load_default=dict)
    locale = fields.String(validate=LOCALE)
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class BatchItem(CallerFields):
    to = fields.Dict(required=True)
    data = fields.Dict(load_default=dict)
    locale = fields.String(validate=LOCALE)


class BatchIn(Schema):
    template = fields.String(required=True, validate=KEY)
    send_at = fields.AwareDateTime(metadata=SEND_AT)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    messages = fields.List(
        fields.Nested(BatchItem), required=True, validate=validate.Length(min=1, max=1000)
    )


class Accepted(Schema):
    id = fields.String()
    status = fields.String()
    reference = fields.String(allow_none=True)


class BatchAccepted(Schema):
    batch_id = fields.String()
    messages = fields.List(fields.Nested(Accepted))


class Erasable(fields.Dict):
    """An object, or the string `[erased]` once its data subject was erased."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)  # type: ignore[no-untyped-call]


ERASABLE = {"description": 'the object, or "[erased]" after its recipient\'s erasure'}


class MessageEvent(Schema):
    kind = fields.String()
    at = fields.DateTime()
    detail = fields.Dict()


class MessageSummary(Schema):
    id = fields.String()
    status = fields.String()
    reason = fields.String()
    template = fields.String()
    version = fields.Integer()
    channel = fields.String()
    category = fields.String()
    locale = fields.String(allow_none=True)
    to = Erasable(metadata=ERASABLE)
    provider = fields.String(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    batch_id = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    metadata = Erasable(allow_none=True, metadata=ERASABLE)
    test = fields.Boolean(metadata={"description": "sent with a test key: no provider saw it"})
    created_at = fields.DateTime()
    send_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)


class MessageOut(MessageSummary):
    events = fields.List(fields.Nested(MessageEvent))


class MessageQuery(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in MessageStatus]))
    template = fields.String(validate=validate.Length(max=100))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    batch_id = fields.String(validate=validate.Length(max=40))
    reference = fields.String(validate=validate.Length(max=255))
    test = fields.Boolean(metadata={"description": "only messages of test keys, or only live"})
    created_after = fields.AwareDateTime(default_timezone=UTC)
    created_before = fields.AwareDateTime(default_timezone=UTC)
    cursor = fields.String(
        validate=validate.Length(max=500), metadata={"description": "`next_cursor` of a page"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MessagePage(Schema):
    items = fields.List(fields.Nested(MessageSummary))
    next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "pass as `cursor` for the next page; null at the end"},
    )


class BatchOut(Schema):
    id = fields.String()
    created_at = fields.DateTime(allow_none=True)
    total = fields.Integer()
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "per status"}
    )


class PreferenceIn(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    status = fields.String(required=True, validate=validate.OneOf(("opted_in", "opted_out")))


class PreferenceOut(Schema):
    channel = fields.String()
    category = fields.String()
    status = fields.String()
    source = fields.String()
    updated_at = fields.DateTime()


class SuspendIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RecallOut(Schema):
    held = fields.Integer(metadata={"description": "messages held by the suspension"})
    released = fields.Integer(metadata={"description": "messages released by the resumption"})


class ImpactQuery(Schema):
    since = fields.AwareDateTime()
    until = fields.AwareDateTime(metadata={"description": "exclusive"})


class ImpactRow(Schema):
    version = fields.Integer()
    channel = fields.String()
    messages = fields.Integer()
    recipients = fields.List(fields.String())
    first_sent_at = fields.DateTime()
    last_sent_at = fields.DateTime()


class BatchCancelled(Schema):
    id = fields.String()
    cancelled = fields.List(fields.String(), metadata={"description": "the ids cancelled"})
    not_cancelled = fields.Integer(metadata={"description": "already sending or past it"})


class ResolveIn(Schema):
    """What became of a message whose send had an unknown outcome."""

    outcome = fields.String(required=True, validate=validate.OneOf(["sent", "resend", "fail"]))
