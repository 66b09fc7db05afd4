"""The visual editor's block document for an email part: its shape, checked by marshmallow.

A document is data, never template source: text is text, variables are names checked against
the variable grammar, links are checked URLs. `templates_store.visual_email` compiles it.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from templates_store.errors import ValidationFailed
from templates_store.names import is_key
from templates_store.sandbox import JINJA_NAMES

DOCUMENT_VERSION = 1
MAX_BLOCKS = 300
MAX_DEPTH = 4
MAX_TEXT = 5_000
#: format filters a variable chip may apply (no arguments: the locale's default format)
CHIP_FILTERS = ("date", "datetime", "time", "number", "percent", "money")
_SEGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
_WORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "none", "true", "false"})
_CALLABLES = frozenset({"block", "range", "lipsum", "dict", "cycler", "joiner", "namespace"})
_URL = re.compile(r"(https?://[^\s\"'<>{}\\^`|]+|mailto:[^\s\"'<>{}\\^`|]+|tel:\+?[0-9 ()-]+)\Z")
_PATH_RULE = "must be a variable name such as first_name or order.total"


def _is_word(name: str) -> bool:
    return name.lower() in _WORDS or keyword.iskeyword(name)


def check_path(value: object) -> None:
    """A variable read such as `first_name` or `item.price`: names from the grammar, dotted."""
    if not isinstance(value, str) or not 1 <= len(value.split(".")) <= 4:
        raise ValidationError(_PATH_RULE)
    segments = value.split(".")
    if not all(_SEGMENT.match(s) and not _is_word(s) for s in segments):
        raise ValidationError(_PATH_RULE)
    if segments[0] in JINJA_NAMES or segments[0] in _CALLABLES:
        raise ValidationError(f"{segments[0]!r} is a reserved name")


def check_loop_name(value: object) -> None:
    """The name one item of a repeated section goes by: one segment, not reserved."""
    check_path(value)
    if "." in str(value):
        raise ValidationError("must be a single name such as item")


def check_url(value: object) -> None:
    """An http(s), mailto or tel link, written out (a variable link uses `*_var` instead)."""
    if not isinstance(value, str) or len(value) > 2_000 or not _URL.match(value):
        raise ValidationError(
            "must be an http(s)://, mailto: or tel: link without spaces or braces"
        )


def check_block_key(value: object) -> None:
    """A content block's key, as content blocks are named."""
    if not is_key(value):
        raise ValidationError("must be a content block key such as footer")


def _one_of(data: Mapping[str, Any], first: str, second: str, *, required: bool = True) -> None:
    if first in data and second in data:
        raise ValidationError(f"give {first} or {second}, not both", first)
    if required and first not in data and second not in data:
        raise ValidationError(f"{first} or {second} is required", first)


class RunSchema(Schema):
    """A piece of inline text: literal text or a variable chip, maybe bold, italic or a link."""

    text = fields.String(validate=validate.Length(max=MAX_TEXT))
    var = fields.String(validate=check_path)
    filter = fields.String(validate=validate.OneOf(CHIP_FILTERS))
    bold = fields.Boolean()
    italic = fields.Boolean()
    link = fields.String(validate=check_url)
    link_var = fields.String(validate=check_path)

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **_: Any) -> None:
        _one_of(data, "text", "var")
        _one_of(data, "link", "link_var", required=False)
        if "filter" in data and "var" not in data:
            raise ValidationError("only a variable takes a format", "filter")


def _runs(required: bool = True) -> fields.List[Any]:
    return fields.List(
        fields.Nested(RunSchema),
        required=required,
        validate=validate.Length(min=1 if required else 0, max=200),
    )


class BlockField(fields.Field[dict[str, Any]]):
    """One block of any kind, checked by the schema its `type` names."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError("must be an object with a type")
        schema = BLOCK_SCHEMAS.get(value.get("type"))  # type: ignore[arg-type]
        if schema is None:
            raise ValidationError({"type": [f"must be one of {', '.join(BLOCK_SCHEMAS)}"]})
        return schema.load(value)


def _blocks(required: bool = True) -> fields.List[Any]:
    return fields.List(BlockField(), required=required, validate=validate.Length(max=MAX_BLOCKS))


class _Block(Schema):
    type = fields.String(required=True)


class HeadingSchema(_Block):
    """A heading of level 1 to 3."""

    level = fields.Integer(load_default=1, validate=validate.OneOf((1, 2, 3)))
    text = _runs()


class ParagraphSchema(_Block):
    """A paragraph of runs."""

    text = _runs()


class ButtonSchema(_Block):
    """A button: a label and where it leads."""

    label = _runs()
    url = fields.String(validate=check_url)
    url_var = fields.String(validate=check_path)

    @validates_schema
    def _target(self, data: dict[str, Any], **_: Any) -> None:
        _one_of(data, "url", "url_var")


class ImageSchema(_Block):
    """An image from an https address, with the alt text every image needs."""

    src = fields.String(validate=check_url)
    src_var = fields.String(validate=check_path)
    alt = fields.String(required=True, validate=validate.Length(min=1, max=500))
    width = fields.Integer(validate=validate.Range(16, 600))
    link = fields.String(validate=check_url)

    @validates_schema
    def _source(self, data: dict[str, Any], **_: Any) -> None:
        _one_of(data, "src", "src_var")
        if not str(data.get("src", "https:")).startswith("https:"):
            raise ValidationError("an image must come from an https:// address", "src")
        if not data["alt"].strip():
            raise ValidationError("describe the image for people who cannot see it", "alt")


class DividerSchema(_Block):
    """A horizontal rule."""


class SpacerSchema(_Block):
    """Vertical space in pixels."""

    height = fields.Integer(load_default=24, validate=validate.Range(4, 120))


class ColumnsSchema(_Block):
    """Two columns side by side (stacked on narrow screens)."""

    left = _blocks()
    right = _blocks()


class ListSchema(_Block):
    """A bulleted or numbered list; each item is runs."""

    ordered = fields.Boolean(load_default=False)
    items = fields.List(_runs(), required=True, validate=validate.Length(min=1, max=100))


class ContentSchema(_Block):
    """One of the platform's content blocks, such as the footer or the unsubscribe block."""

    key = fields.String(required=True, validate=check_block_key)


class ConditionSchema(_Block):
    """A section shown only when a variable is set and not empty (else the `otherwise` blocks)."""

    variable = fields.String(required=True, validate=check_path)
    blocks = _blocks()
    otherwise = _blocks(required=False)


class RepeatSchema(_Block):
    """A section repeated for each item of a list variable; inside, the item is `as`."""

    variable = fields.String(required=True, validate=check_path)
    as_ = fields.String(data_key="as", load_default="item", validate=check_loop_name)
    blocks = _blocks()


BLOCK_SCHEMAS: dict[str, Schema] = {
    "heading": HeadingSchema(),
    "paragraph": ParagraphSchema(),
    "button": ButtonSchema(),
    "image": ImageSchema(),
    "divider": DividerSchema(),
    "spacer": SpacerSchema(),
    "columns": ColumnsSchema(),
    "list": ListSchema(),
    "content": ContentSchema(),
    "if": ConditionSchema(),
    "repeat": RepeatSchema(),
}
CONTAINERS = {"columns": ("left", "right"), "if": ("blocks", "otherwise"), "repeat": ("blocks",)}


class DocumentSchema(Schema):
    """The whole document: a format version and the blocks from top to bottom."""

    version = fields.Integer(load_default=DOCUMENT_VERSION, validate=validate.Equal(1))
    blocks = _blocks()


_DOCUMENT = DocumentSchema()


def children(block: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """The lists of blocks nested in a block (columns, conditions, repeats)."""
    return [block.get(name) or [] for name in CONTAINERS.get(block["type"], ())]


def _count(blocks: list[dict[str, Any]], depth: int, where: str) -> int:
    if depth > MAX_DEPTH:
        raise ValidationFailed({where: [f"nests sections deeper than {MAX_DEPTH} levels"]})
    return sum(
        1 + sum(_count(inner, depth + 1, where) for inner in children(block)) for block in blocks
    )


def _flatten(prefix: str, messages: Any, into: dict[str, list[str]]) -> None:
    if isinstance(messages, dict):
        for key, inner in messages.items():
            name = "as" if key == "as_" else str(key)
            _flatten(f"{prefix}.{name}" if key != "_schema" else prefix, inner, into)
    else:
        into.setdefault(prefix, []).extend(str(m) for m in messages)


def clean_document(document: Any, where: str = "blocks") -> dict[str, Any]:
    """The document checked and normalised; ValidationFailed names each bad block's path."""
    if not isinstance(document, dict):
        raise ValidationFailed({where: ["must be a block document: {'version': 1, 'blocks': []}"]})
    try:
        cleaned: dict[str, Any] = _DOCUMENT.load(document)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        _flatten(where, exc.messages, errors)
        raise ValidationFailed(errors) from None
    if _count(cleaned["blocks"], 1, where) > MAX_BLOCKS:
        raise ValidationFailed({where: [f"has more than {MAX_BLOCKS} blocks"]})
    plain: dict[str, Any] = _plain(cleaned)
    return plain


def _plain(value: Any) -> Any:
    """Loaded data as JSON holds it: `as_` back to `as`, keys in a stable order."""
    if isinstance(value, dict):
        return {("as" if k == "as_" else k): _plain(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
