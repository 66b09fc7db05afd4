"""One marshmallow schema per resource; `load()` raises, schemas never touch the database."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from hcs.messages.status import MessageStatus
from templates_store.models import CATEGORIES, CHANNELS
from templates_store.names import KEY_PATTERN, KEY_RULE

KEY = validate.Regexp(KEY_PATTERN, error=KEY_RULE)
LOCALE = validate.Regexp(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", error="is not a locale tag")


class TemplateIn(Schema):
    key = fields.String(required=True, validate=KEY, metadata={"example": "order-confirmation"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        required=True,
        validate=validate.Length(min=1, max=len(CHANNELS)),
    )
    default_locale = fields.String(load_default="en", validate=LOCALE)
    description = fields.String(load_default="")
    owner_team = fields.String(load_default="", validate=validate.Length(max=100))
    theme = fields.String(load_default="default")


class Approval(Schema):
    stage = fields.String()
    by = fields.String()
    decision = fields.String()
    comment = fields.String()
    at = fields.DateTime()


class VersionSummary(Schema):
    number = fields.Integer()
    status = fields.String()
    author = fields.String()
    contributors = fields.List(
        fields.String(), metadata={"description": "everyone who changed the version"}
    )
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)


class TemplateOut(Schema):
    key = fields.String()
    name = fields.String()
    description = fields.String()
    category = fields.String()
    channels = fields.List(fields.String())
    default_locale = fields.String()
    owner_team = fields.String()
    theme = fields.String()
    published_version = fields.Integer(allow_none=True)
    retired = fields.Boolean()
    review_due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    versions = fields.List(fields.Nested(VersionSummary))


class TemplateQuery(Schema):
    q = fields.String(metadata={"description": "search in key and name"})
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))


class VersionContent(Schema):
    parts = fields.Dict(keys=fields.String(), values=fields.Dict())
    variables = fields.List(fields.Dict())
    sample_data = fields.Dict()
    ai_slots = fields.List(fields.Dict())


class VersionIn(VersionContent):
    from_version = fields.Integer(validate=validate.Range(min=1))


class VersionOut(VersionSummary, VersionContent):
    based_on = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()
    review_due_at = fields.DateTime(allow_none=True)
    approvals = fields.List(fields.Nested(Approval))
    next_stage = fields.String(allow_none=True)
    closure = fields.Dict(allow_none=True)
    closure_hash = fields.String(allow_none=True)
    stale_translations = fields.List(fields.String())


class Decision(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    stage = fields.String(metadata={"description": "the stage the reviewer decides (optional)"})
    closure_hash = fields.String(
        metadata={"description": "the closure hash the reviewer saw; 409 when it differs"}
    )


class PublishIn(Schema):
    replaces = fields.Integer(
        allow_none=True,
        metadata={"description": "the published version the caller saw (null: none); 409 if not"},
    )


class DiffQuery(Schema):
    against = fields.Integer(required=True, validate=validate.Range(min=1))


class PartDiff(Schema):
    part = fields.String()
    change = fields.String()
    unified = fields.String()
    hunks = fields.List(fields.Dict())


class DiffOut(Schema):
    old = fields.Integer(data_key="from")
    new = fields.Integer(data_key="to")
    parts = fields.List(fields.Nested(PartDiff))


class PreviewIn(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    locale = fields.String()
    data = fields.Dict(metadata={"description": "defaults to the version's sample data"})
    version = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "defaults to the published version; a draft comes watermarked"},
    )


class Warning(Schema):
    level = fields.String()
    code = fields.String()
    message = fields.String()
    part = fields.String(allow_none=True)


class PreviewOut(Schema):
    channel = fields.String()
    locale = fields.String()
    version = fields.Integer()
    is_preview = fields.Boolean()
    closure_hash = fields.String(allow_none=True)
    output = fields.Dict()
    warnings = fields.List(fields.Nested(Warning))


class Finding(Schema):
    check = fields.String()
    severity = fields.String()
    part = fields.String()
    message = fields.String()


class BlockIn(Schema):
    key = fields.String(required=True, validate=KEY)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="")


class BlockVersionIn(Schema):
    content = fields.Dict(required=True)


class ThemeVersionIn(Schema):
    settings = fields.Dict(load_default=dict)
    assets = fields.Dict(load_default=dict)


class ComponentVersionOut(Schema):
    number = fields.Integer()
    status = fields.String()
    author = fields.String()
    contributors = fields.List(
        fields.String(), metadata={"description": "everyone who changed the version"}
    )
    content = fields.Dict()
    settings = fields.Dict()
    assets = fields.List(fields.String())
    approvals = fields.List(fields.Nested(Approval))
    next_stage = fields.String(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)


class ComponentOut(Schema):
    key = fields.String()
    name = fields.String()
    description = fields.String()
    published_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(VersionSummary))


class Stage(Schema):
    name = fields.String(required=True)
    role = fields.String(required=True)
    group = fields.String(metadata={"description": "the reviewer group holding it (default: name)"})


class PolicyOut(Schema):
    category = fields.String()
    stages = fields.List(fields.Nested(Stage))
    review_days = fields.Integer()
    checks = fields.Dict(keys=fields.String(), values=fields.String())
    link_domains = fields.List(fields.String())
    forbidden_topics = fields.List(
        fields.String(), allow_none=True, metadata={"description": "null: the built-in defaults"}
    )


class PolicyPatch(Schema):
    stages = fields.List(fields.Nested(Stage), validate=validate.Length(min=1))
    review_days = fields.Integer(validate=validate.Range(min=1, max=3650))
    checks = fields.Dict(keys=fields.String(), values=fields.String())
    link_domains = fields.List(fields.String())
    forbidden_topics = fields.List(fields.String(), allow_none=True)


class PendingReview(Schema):
    kind = fields.String()
    key = fields.String()
    number = fields.Integer()
    author = fields.String()
    stage = fields.String()
    role = fields.String()
    submitted_at = fields.DateTime(allow_none=True)


class Overdue(Schema):
    template = fields.String()
    version = fields.Integer()
    review_due_at = fields.DateTime()


class StalePin(Schema):
    template = fields.String()
    version = fields.Integer()
    block = fields.String()
    pinned = fields.Integer()
    published = fields.Integer()


class AuditQuery(Schema):
    actor = fields.String()
    action = fields.String()
    target_type = fields.String()
    target = fields.String()
    since = fields.DateTime()
    until = fields.DateTime()


class AuditEntry(Schema):
    class Meta:
        unknown = INCLUDE

    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    target_type = fields.String()
    target = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    detail = fields.Dict()
    seq = fields.Integer(allow_none=True)
    sealed = fields.Boolean()


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
    to = fields.Dict()
    provider = fields.String(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    batch_id = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    metadata = fields.Dict(allow_none=True)
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


class SignoffQuery(Schema):
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(("pending", "approved", "rejected", "expired")),
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


class SignoffOut(Schema):
    id = fields.Integer()
    message_id = fields.String()
    template = fields.String()
    version = fields.Integer()
    status = fields.String()
    flagged = fields.Boolean()
    slots = fields.List(fields.Nested(SlotReview))
    rendered = fields.Dict(allow_none=True, metadata={"description": "AI text in <mark>"})
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
