"""Schemas of the sign-off queue, its decisions and sampled batch approvals."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hcs.http.api.schemas import KEY


class SignoffQuery(Schema):
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(("pending", "approved", "rejected", "expired", "withdrawn")),
    )
    template = fields.String(validate=KEY)


class SlotReview(Schema):
    name = fields.String()
    text = fields.String(allow_none=True)
    generated = fields.String(allow_none=True)
    used_fallback = fields.Boolean()
    blocked = fields.Boolean()
    flagged = fields.Boolean()
    instruction = fields.String()
    inputs = fields.Dict(metadata={"description": "the fields the model saw, with digests"})
    findings = fields.List(fields.Dict())
    provider = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    input_values = fields.Dict(
        allow_none=True, metadata={"description": "the values the model saw (detail only)"}
    )
    visible_text = fields.String(
        allow_none=True, metadata={"description": "the text, invisible characters as ⟨U+XXXX⟩"}
    )
    visible_generated = fields.String(
        allow_none=True, metadata={"description": "what the model wrote, invisibles shown"}
    )
    final_findings = fields.List(fields.Dict(), allow_none=True)
    digest = fields.String(allow_none=True, metadata={"description": "of the text sent"})
    system_prompt = fields.Dict(
        allow_none=True,
        metadata={"description": "the platform prompt's version and digests, per generation"},
    )


class SignoffOut(Schema):
    id = fields.Integer()
    message_id = fields.String()
    template = fields.String()
    version = fields.Integer()
    status = fields.String()
    flagged = fields.Boolean()
    slots = fields.List(fields.Nested(SlotReview))
    channel = fields.String()
    locale = fields.String(allow_none=True)
    rendered = fields.Dict(
        allow_none=True,
        metadata={"description": "the message's parts on its channel, AI text in <mark>"},
    )
    channel_details = fields.Dict(
        allow_none=True,
        metadata={"description": "SMS: encoding, segments, characters; letter: pages (detail)"},
    )
    finding_codes = fields.List(
        fields.String(), metadata={"description": "findings to acknowledge to approve"}
    )
    acknowledged = fields.List(fields.String())
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    comment = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()


class SignoffDecision(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    slots = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.Length(max=4000)),
        metadata={"description": "edited slot texts (pass the guardrails again)"},
    )
    acknowledged = fields.List(
        fields.String(validate=validate.Length(max=200)),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "the finding codes of a flagged item, each acknowledged"},
    )


class BatchDraw(Schema):
    template = fields.String(required=True, validate=KEY)
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    up_to = fields.AwareDateTime(
        load_default=None, metadata={"description": "pending items created up to this moment"}
    )
    message_batch = fields.String(
        load_default=None,
        validate=validate.Length(max=40),
        metadata={"description": "a send batch"},
    )


class SignoffBatchOut(Schema):
    id = fields.Integer()
    template = fields.String()
    version = fields.Integer()
    up_to = fields.DateTime()
    status = fields.String()
    set = fields.List(fields.Integer(), metadata={"description": "the items covered"})
    sample = fields.List(fields.Integer(), metadata={"description": "the drawn items"})
    decisions = fields.List(fields.Dict())
    plan = fields.Dict()
    drawn_by = fields.String()
    drawn_at = fields.DateTime()


class BatchSignoff(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class BatchSignoffOut(Schema):
    approved = fields.Integer()
    batch = fields.Integer()
