"""Plain factory functions with defaults, for tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from templates_store import blocks, versioning
from templates_store.models import Template, TemplateVersion

ORDER_PARTS: dict[str, Any] = {
    "email": {
        "en": {
            "subject": "Your order {{ order_id }}",
            "html": '<html lang="en"><body><p>Hi {{ first_name }}, order {{ order_id }}.</p>'
            "</body></html>",
        }
    },
    "sms": {"en": {"body": "Order {{ order_id }} is confirmed."}},
}
ORDER_VARIABLES: list[dict[str, Any]] = [
    {"name": "order_id", "type": "string", "required": True, "example": "A-1001"},
    {"name": "first_name", "type": "string", "required": True, "data_class": "personal"},
]
ORDER_SAMPLE = {"order_id": "A-1001", "first_name": "Ana"}


def make_template(session: Session, **overrides: Any) -> Template:
    fields: dict[str, Any] = {
        "key": "order-confirmation",
        "name": "Order confirmation",
        "category": "transactional",
        "channels": ["email", "sms"],
    }
    fields.update(overrides)
    return versioning.create_template(session, **fields)


def make_draft(
    session: Session, key: str = "order-confirmation", **content: Any
) -> TemplateVersion:
    body: dict[str, Any] = {
        "parts": ORDER_PARTS,
        "variables": ORDER_VARIABLES,
        "sample_data": ORDER_SAMPLE,
    }
    body.update(content)
    author = body.pop("author", "ana@example.com")
    return versioning.create_draft(session, key, author=author, content=body)


def make_block(session: Session, key: str = "footer", **content: Any) -> Any:
    blocks.create_block(session, key=key, name=key.title())
    body = content or {
        "html": {"en": "<p>Northwind · {{ brand.company_name }}</p>"},
        "text": {"en": "-- Northwind"},
    }
    return blocks.create_block_draft(session, key, author="bo@example.com", content=body)


def png(width: int, height: int, colour: str = "navy") -> bytes:
    """A solid PNG of the given size."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()
