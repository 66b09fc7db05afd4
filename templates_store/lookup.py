"""Finding templates, blocks, themes and their versions by key and number."""

from __future__ import annotations

from typing import Any, TypeVar

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
Owner = TypeVar("Owner", Template, ContentBlock, Theme)
# Version numbers are 32-bit integers in every database.
MAX_NUMBER = 2**31 - 1


def _by_key(session: Session, model: type[Owner], key: str, what: str) -> Owner:
    found = session.scalar(select(model).where(model.key == key))
    if found is None:
        raise NotFound(f"no {what} with key {key!r}")
    return found


def _version(
    session: Session, owner: type[Any], model: type[V], key: str, number: int, what: str
) -> V:
    if not 1 <= number <= MAX_NUMBER:
        raise NotFound(f"{what} {key!r} has no version {number}")
    version = session.scalar(
        select(model).join(owner).where(owner.key == key, model.number == number)
    )
    if version is None:
        raise NotFound(f"{what} {key!r} has no version {number}")
    return version


def get_template(session: Session, key: str) -> Template:
    """The template with `key`, or `NotFound`."""
    return _by_key(session, Template, key, "template")


def get_version(session: Session, key: str, number: int) -> TemplateVersion:
    """Version `number` of template `key`, or `NotFound`."""
    return _version(session, Template, TemplateVersion, key, number, "template")


def get_block(session: Session, key: str) -> ContentBlock:
    """The content block with `key`, or `NotFound`."""
    return _by_key(session, ContentBlock, key, "content block")


def get_block_version(session: Session, key: str, number: int) -> BlockVersion:
    """Version `number` of block `key`, or `NotFound`."""
    return _version(session, ContentBlock, BlockVersion, key, number, "content block")


def get_theme(session: Session, key: str) -> Theme:
    """The brand theme with `key`, or `NotFound`."""
    return _by_key(session, Theme, key, "theme")


def get_theme_version(session: Session, key: str, number: int) -> ThemeVersion:
    """Version `number` of theme `key`, or `NotFound`."""
    return _version(session, Theme, ThemeVersion, key, number, "theme")


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
