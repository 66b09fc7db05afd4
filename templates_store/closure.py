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


def _digest(form: dict[str, Any]) -> str:
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def closure_hash(version: TemplateVersion, closure: Closure) -> str:
    """SHA-256 over the canonical JSON of the closure: same closure, same hash."""
    return _digest(canonical_form(version, closure))


def component_form(version: BlockVersion | ThemeVersion) -> dict[str, Any]:
    """Everything a block or theme version contributes to what is sent, as plain data."""
    if isinstance(version, BlockVersion):
        return {
            "kind": "block",
            "key": version.block.key,
            "number": version.number,
            "content": version.content,
        }
    return {
        "kind": "theme",
        "key": version.theme.key,
        "number": version.number,
        "settings": version.settings,
        "assets": version.assets,
    }


def component_hash(version: BlockVersion | ThemeVersion) -> str:
    """SHA-256 over a block's or theme's canonical JSON: its own closure (it includes nothing)."""
    return _digest(component_form(version))


def is_component_intact(version: BlockVersion | ThemeVersion) -> bool:
    """Whether a submitted block or theme version still gives the hash stored at submission."""
    return version.closure_hash is not None and component_hash(version) == version.closure_hash


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


def pinned_components(closure: Closure) -> list[BlockVersion | ThemeVersion]:
    """The block versions and the theme version a closure pins."""
    pinned: list[BlockVersion | ThemeVersion] = list(closure.blocks.values())
    return pinned + ([closure.theme] if closure.theme is not None else [])


def verify_closure(session: Session, version: TemplateVersion) -> bool:
    """Whether a submitted version still gives its stored hash, and each pin its own."""
    if version.closure is None or version.closure_hash is None:
        return False
    closure = resolve_closure(session, version)
    if closure_hash(version, closure) != version.closure_hash:
        return False
    return all(_pin_agrees(pinned) for pinned in pinned_components(closure))


def _pin_agrees(pinned: BlockVersion | ThemeVersion) -> bool:
    # A draft pin (only the repository allows one; reviews require approved pins) has no hash
    # of its own yet: the template's hash, over its content, is all there is to compare.
    if pinned.closure_hash is None and not pinned.is_frozen:
        return True
    return is_component_intact(pinned)
