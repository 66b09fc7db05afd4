"""One marshmallow schema per resource; `load()` raises, schemas never touch the database."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

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
    closure_hash = fields.String(
        allow_none=True, metadata={"description": "the closure hash this decision was about"}
    )


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
    words = fields.List(
        fields.Dict(), metadata={"description": "the part word by word: {op, text} segments"}
    )


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
    closure_hash = fields.String(
        allow_none=True, metadata={"description": "the hash of the content, set at submission"}
    )
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
