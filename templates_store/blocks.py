"""Content blocks and brand themes: created, drafted, edited and submitted like templates."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from templates_store.analysis import check_syntax, used_blocks
from templates_store.closure import component_hash
from templates_store.errors import Conflict, ImmutableVersion, TemplateProblem, ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.lookup import (
    get_block,
    get_block_version,
    get_theme,
    get_theme_version,
    next_number,
)
from templates_store.models import BlockVersion, ContentBlock, Theme, ThemeVersion, VersionMixin
from templates_store.names import check_asset_name, check_key
from templates_store.status import Status
from templates_store.themes import clean_theme_settings

BLOCK_FORMATS = ("html", "text")
MAX_ASSET_BYTES = 2_000_000


def create_block(session: Session, *, key: str, name: str, description: str = "") -> ContentBlock:
    """A new content block with no versions yet."""
    check_key(key)
    if session.scalar(select(ContentBlock.id).where(ContentBlock.key == key)) is not None:
        raise Conflict(f"a content block with key {key!r} exists")
    block = ContentBlock(key=key, name=name or key, description=description)
    session.add(block)
    session.flush()
    return block


def clean_block_content(content: Any) -> dict[str, Any]:
    """`{"html": {locale: source}, "text": {locale: source}}`, compiled, without nested blocks."""
    if not isinstance(content, dict) or not set(content) <= set(BLOCK_FORMATS):
        raise ValidationFailed({"content": ["must be an object with 'html' and/or 'text'"]})
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for fmt, locales in content.items():
        if not isinstance(locales, dict):
            errors[f"content.{fmt}"] = ["must be an object of locale: source"]
            continue
        for raw_locale, source in locales.items():
            locale = normalize_locale(raw_locale)
            where = f"content.{fmt}.{locale}"
            try:
                if not isinstance(source, str):
                    raise ValidationFailed({where: ["must be a string"]})
                check_syntax(source, part=where)
                if used_blocks(source, part=where):
                    errors[where] = ["a block cannot include another block"]
            except TemplateProblem as exc:
                errors[where] = [str(exc)]
            cleaned.setdefault(fmt, {})[locale] = source
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def create_block_draft(
    session: Session, key: str, *, author: str, content: Mapping[str, Any] | None = None
) -> BlockVersion:
    """A new block draft: the given content, or a copy of the newest version."""
    block = get_block(session, key)
    base = block.versions[-1].content if block.versions else {}
    number = next_number(session, BlockVersion, block.id)
    draft = BlockVersion(block=block, number=number, author=author, content=base)
    session.add(draft)
    if content is not None:
        draft.content = clean_block_content(content)
    session.flush()
    return draft


def update_block_draft(
    session: Session, key: str, number: int, content: Mapping[str, Any]
) -> BlockVersion:
    """Replace a block draft's content; a submitted version refuses."""
    version = get_block_version(session, key, number)
    _refuse_frozen(version, f"block {key!r}")
    version.content = clean_block_content(content)
    session.flush()
    return version


def _refuse_frozen(version: VersionMixin, what: str) -> None:
    if version.is_frozen:
        raise ImmutableVersion(
            f"version {version.number} of {what} is {version.status.value}; start a new draft"
        )


def submit_block(session: Session, key: str, number: int) -> BlockVersion:
    """Freeze a block draft for review and hash exactly what is reviewed."""
    version = get_block_version(session, key, number)
    _refuse_frozen(version, f"block {key!r}")
    if not version.content:
        raise ValidationFailed({"content": ["is empty"]})
    version.closure_hash = component_hash(version)
    version.move_to(Status.IN_REVIEW)
    session.flush()
    return version


def create_theme(session: Session, *, key: str, name: str) -> Theme:
    """A new brand theme with no versions yet."""
    check_key(key)
    if session.scalar(select(Theme.id).where(Theme.key == key)) is not None:
        raise Conflict(f"a theme with key {key!r} exists")
    theme = Theme(key=key, name=name or key)
    session.add(theme)
    session.flush()
    return theme


def clean_assets(assets: Any) -> dict[str, Any]:
    """Theme files as `{name: {"content_type", "data": base64}}`, size-bounded."""
    if not isinstance(assets, dict):
        raise ValidationFailed({"assets": ["must be an object of files"]})
    for name, asset in assets.items():
        check_asset_name(name)
        where = f"assets.{name}"
        if not isinstance(asset, dict) or not {"content_type", "data"} <= set(asset):
            raise ValidationFailed({where: ["needs content_type and base64 data"]})
        try:
            size = len(base64.b64decode(asset["data"], validate=True))
        except (binascii.Error, TypeError) as exc:
            raise ValidationFailed({where: ["data is not base64"]}) from exc
        if size > MAX_ASSET_BYTES:
            raise ValidationFailed({where: [f"is larger than {MAX_ASSET_BYTES} bytes"]})
    return {name: dict(asset) for name, asset in assets.items()}


def create_theme_draft(
    session: Session,
    key: str,
    *,
    author: str,
    settings: Mapping[str, Any] | None = None,
    assets: Mapping[str, Any] | None = None,
) -> ThemeVersion:
    """A new theme draft from the given settings and assets, or a copy of the newest version."""
    theme = get_theme(session, key)
    newest = theme.versions[-1] if theme.versions else None
    draft = ThemeVersion(
        theme=theme,
        number=next_number(session, ThemeVersion, theme.id),
        author=author,
        settings=clean_theme_settings(settings)
        if settings is not None
        else dict(newest.settings if newest else {}),
        assets=clean_assets(assets)
        if assets is not None
        else dict(newest.assets if newest else {}),
    )
    session.add(draft)
    session.flush()
    return draft


def update_theme_draft(
    session: Session,
    key: str,
    number: int,
    *,
    settings: Mapping[str, Any] | None = None,
    assets: Mapping[str, Any] | None = None,
) -> ThemeVersion:
    """Replace a theme draft's settings and/or assets; a submitted version refuses."""
    version = get_theme_version(session, key, number)
    _refuse_frozen(version, f"theme {key!r}")
    if settings is not None:
        version.settings = clean_theme_settings(settings)
    if assets is not None:
        version.assets = clean_assets(assets)
    session.flush()
    return version


def submit_theme(session: Session, key: str, number: int) -> ThemeVersion:
    """Freeze a theme draft for review and hash exactly what is reviewed."""
    version = get_theme_version(session, key, number)
    _refuse_frozen(version, f"theme {key!r}")
    clean_theme_settings(version.settings)  # saved before the rule: refused now
    version.closure_hash = component_hash(version)
    version.move_to(Status.IN_REVIEW)
    session.flush()
    return version
