"""Finding templates, blocks, themes and their versions by key and number."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from templates_store.errors import NotFound
from templates_store.models import (
    BlockVersion,
    ContentBlock,
    Template,
    TemplateVersion,
    Theme,
    ThemeVersion,
    VersionMixin,
)
from templates_store.status import Status

V = TypeVar("V", bound=VersionMixin)
# Version numbers are 32-bit integers in every database.
MAX_NUMBER = 2**31 - 1


def _number(number: int, what: str) -> int:
    if not 1 <= number <= MAX_NUMBER:
        raise NotFound(f"{what} has no version {number}")
    return number


def get_template(session: Session, key: str) -> Template:
    """The template with `key`, or `NotFound`."""
    template = session.scalar(select(Template).where(Template.key == key))
    if template is None:
        raise NotFound(f"no template with key {key!r}")
    return template


def get_version(session: Session, key: str, number: int) -> TemplateVersion:
    """Version `number` of template `key`, or `NotFound`."""
    _number(number, f"template {key!r}")
    version = session.scalar(
        select(TemplateVersion)
        .join(Template)
        .where(Template.key == key, TemplateVersion.number == number)
    )
    if version is None:
        raise NotFound(f"template {key!r} has no version {number}")
    return version


def get_block(session: Session, key: str) -> ContentBlock:
    """The content block with `key`, or `NotFound`."""
    block = session.scalar(select(ContentBlock).where(ContentBlock.key == key))
    if block is None:
        raise NotFound(f"no content block with key {key!r}")
    return block


def get_block_version(session: Session, key: str, number: int) -> BlockVersion:
    """Version `number` of block `key`, or `NotFound`."""
    _number(number, f"content block {key!r}")
    version = session.scalar(
        select(BlockVersion)
        .join(ContentBlock)
        .where(ContentBlock.key == key, BlockVersion.number == number)
    )
    if version is None:
        raise NotFound(f"content block {key!r} has no version {number}")
    return version


def get_theme(session: Session, key: str) -> Theme:
    """The brand theme with `key`, or `NotFound`."""
    theme = session.scalar(select(Theme).where(Theme.key == key))
    if theme is None:
        raise NotFound(f"no theme with key {key!r}")
    return theme


def get_theme_version(session: Session, key: str, number: int) -> ThemeVersion:
    """Version `number` of theme `key`, or `NotFound`."""
    _number(number, f"theme {key!r}")
    version = session.scalar(
        select(ThemeVersion).join(Theme).where(Theme.key == key, ThemeVersion.number == number)
    )
    if version is None:
        raise NotFound(f"theme {key!r} has no version {number}")
    return version


def next_number(session: Session, model: type[VersionMixin], owner_id: int) -> int:
    """The number the next version of an owner gets."""
    owner = getattr(model, model.owner_column)  # type: ignore[attr-defined]
    current = session.scalar(select(func.max(model.number)).where(owner == owner_id))
    return (current or 0) + 1


# Which version a draft uses for a block or theme: the published one, else the newest approved.
_PREFERENCE = (Status.PUBLISHED, Status.APPROVED)


def current_version(versions: list[V]) -> V | None:
    """The version a draft renders with: published, else newest approved, else newest."""
    for status in _PREFERENCE:
        chosen = [v for v in versions if v.status is status]
        if chosen:
            return chosen[-1]
    return versions[-1] if versions else None


def published_version(template: Template) -> TemplateVersion | None:
    """The version that sends for this template, if any."""
    return next((v for v in template.versions if v.status is Status.PUBLISHED), None)


def search_templates(
    session: Session, *, q: str = "", category: str | None = None, channel: str | None = None
) -> list[Template]:
    """Templates whose key or name contains `q`, by category and channel, ordered by key."""
    query = select(Template).order_by(Template.key)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            func.lower(Template.key).like(pattern) | func.lower(Template.name).like(pattern)
        )
    if category:
        query = query.where(Template.category == category)
    found = list(session.scalars(query))
    return [t for t in found if channel is None or channel in t.channels]
