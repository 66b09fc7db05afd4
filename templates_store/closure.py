"""A version's closure: the exact blocks and theme it uses, and one hash over all of it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from templates_store.analysis import used_blocks
from templates_store.errors import NotFound, ValidationFailed
from templates_store.lookup import current_version, get_block, get_theme
from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion
from templates_store.parts import iter_sources


@dataclass
class Closure:
    """The block and theme versions one template version renders with."""

    blocks: dict[str, BlockVersion] = field(default_factory=dict)
    theme: ThemeVersion | None = None


def referenced_blocks(version: TemplateVersion) -> set[str]:
    """Every block key any part of the version includes."""
    keys: set[str] = set()
    for name, _kind, source in iter_sources(version.parts):
        keys |= used_blocks(source, part=name)
    return keys


def resolve_closure(session: Session, version: TemplateVersion) -> Closure:
    """The pinned closure of a submitted version, or for a draft what it would pin now."""
    if version.closure is not None:
        return _pinned(session, version.closure)
    closure = Closure()
    errors: dict[str, list[str]] = {}
    for key in sorted(referenced_blocks(version)):
        try:
            chosen = current_version(get_block(session, key).versions)
        except NotFound:
            chosen = None
        if chosen is None:
            errors[f"blocks.{key}"] = [f"content block {key!r} does not exist or has no version"]
        else:
            closure.blocks[key] = chosen
    if errors:
        raise ValidationFailed(errors)
    try:
        closure.theme = current_version(get_theme(session, version.template.theme_key).versions)
    except NotFound:
        closure.theme = None
    return closure


def _pinned(session: Session, pins: dict[str, Any]) -> Closure:
    blocks = {key: session.get_one(BlockVersion, pin["id"]) for key, pin in pins["blocks"].items()}
    theme = session.get_one(ThemeVersion, pins["theme"]["id"]) if pins.get("theme") else None
    return Closure(blocks=blocks, theme=theme)


def canonical_form(version: TemplateVersion, closure: Closure) -> dict[str, Any]:
    """Everything that determines what a version sends, as plain data."""
    template = version.template
    theme = closure.theme
    return {
        "template": {
            "key": template.key,
            "category": template.category,
            "channels": sorted(template.channels),
            "default_locale": template.default_locale,
        },
        "parts": version.parts,
        "variables": version.variables,
        "ai_slots": version.ai_slots,
        "blocks": {
            key: {"number": block.number, "content": block.content}
            for key, block in sorted(closure.blocks.items())
        },
        "theme": None
        if theme is None
        else {
            "key": theme.theme.key,
            "number": theme.number,
            "settings": theme.settings,
            "assets": theme.assets,
        },
    }


def closure_hash(version: TemplateVersion, closure: Closure) -> str:
    """SHA-256 over the canonical JSON of the closure: same closure, same hash."""
    text = json.dumps(
        canonical_form(version, closure), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def pin_closure(session: Session, version: TemplateVersion) -> tuple[dict[str, Any], str]:
    """The pins to store on a version at submission, and its closure hash."""
    closure = resolve_closure(session, version)
    theme = closure.theme
    pins = {
        "blocks": {
            key: {"id": block.id, "number": block.number} for key, block in closure.blocks.items()
        },
        "theme": None
        if theme is None
        else {"key": theme.theme.key, "id": theme.id, "number": theme.number},
    }
    return pins, closure_hash(version, closure)


def verify_closure(session: Session, version: TemplateVersion) -> bool:
    """Whether a submitted version's stored hash still matches what it pins."""
    if version.closure is None or version.closure_hash is None:
        return False
    return closure_hash(version, resolve_closure(session, version)) == version.closure_hash
