"""Templates and their versions: create, draft, edit, submit. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from templates_store import checks
from templates_store.closure import pin_closure
from templates_store.errors import Conflict, ImmutableVersion, ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.lookup import get_template, get_version, next_number
from templates_store.models import CATEGORIES, CHANNELS, Template, TemplateVersion
from templates_store.names import check_key
from templates_store.parts import clean_parts, track_translations
from templates_store.samples import check_sample_data
from templates_store.status import Status
from templates_store.variables import check_declarations

EDITABLE = ("parts", "variables", "sample_data", "ai_slots")


def _check_template_fields(category: str, channels: list[str], name: str) -> None:
    errors: dict[str, list[str]] = {}
    if category not in CATEGORIES:
        errors["category"] = [f"must be one of {', '.join(CATEGORIES)}"]
    if (
        not channels
        or any(c not in CHANNELS for c in channels)
        or len(set(channels)) < len(channels)
    ):
        errors["channels"] = [f"must be distinct channels among {', '.join(CHANNELS)}"]
    if not name or not name.strip():
        errors["name"] = ["is required"]
    if errors:
        raise ValidationFailed(errors)


def create_template(
    session: Session,
    *,
    key: str,
    name: str,
    category: str,
    channels: list[str],
    default_locale: str = "en",
    description: str = "",
    owner_team: str = "",
    theme_key: str = "default",
) -> Template:
    """A new template with no versions yet; its key is refused when taken."""
    check_key(key)
    _check_template_fields(category, channels, name)
    locale = normalize_locale(default_locale)
    if session.scalar(select(Template.id).where(Template.key == key)) is not None:
        raise Conflict(f"a template with key {key!r} exists")
    template = Template(
        key=key,
        name=name.strip(),
        category=category,
        channels=sorted(channels, key=CHANNELS.index),
        default_locale=locale,
        description=description,
        owner_team=owner_team,
        theme_key=theme_key,
    )
    session.add(template)
    session.flush()
    return template


def _empty_content() -> dict[str, Any]:
    return {"parts": {}, "variables": [], "sample_data": {}, "ai_slots": []}


def _content_of(version: TemplateVersion) -> dict[str, Any]:
    return {field: getattr(version, field) for field in EDITABLE}


def create_draft(
    session: Session,
    key: str,
    *,
    author: str,
    from_version: int | None = None,
    content: Mapping[str, Any] | None = None,
) -> TemplateVersion:
    """A new draft: a copy of `from_version` (default: the newest version), then `content`."""
    template = get_template(session, key)
    if template.retired_at is not None:
        raise Conflict(f"template {key!r} is retired")
    base = get_version(session, key, from_version) if from_version else None
    if base is None and from_version is None and template.versions:
        base = template.versions[-1]
    draft = TemplateVersion(
        template=template,
        number=next_number(session, TemplateVersion, template.id),
        status=Status.DRAFT,
        author=author,
        based_on=base.number if base else None,
        translation_sources=dict(base.translation_sources) if base else {},
        **(_content_of(base) if base else _empty_content()),
    )
    session.add(draft)
    if content:
        _apply(draft, content)
    session.flush()
    return draft


def clean_content(changes: Mapping[str, Any], channels: list[str]) -> dict[str, Any]:
    """A version's editable content checked for a template serving `channels`; no database."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed({field: ["cannot be edited in a version"] for field in unknown})
    cleaned: dict[str, Any] = {}
    if "parts" in changes:
        cleaned["parts"] = clean_parts(changes["parts"], channels)
        checks.check_part_syntax(cleaned["parts"])
    if "variables" in changes:
        cleaned["variables"] = check_declarations(changes["variables"])
    if "sample_data" in changes:
        cleaned["sample_data"] = check_sample_data(changes["sample_data"])
    if "ai_slots" in changes:
        cleaned["ai_slots"] = checks.check_slot_shapes(changes["ai_slots"])
    return cleaned


def _apply(draft: TemplateVersion, changes: Mapping[str, Any]) -> None:
    template = draft.template
    cleaned = clean_content(changes, template.channels)
    if "parts" in cleaned:
        draft.translation_sources = track_translations(
            draft.parts, cleaned["parts"], draft.translation_sources, template.default_locale
        )
    for field, value in cleaned.items():
        setattr(draft, field, value)


def update_draft(
    session: Session, key: str, number: int, changes: Mapping[str, Any]
) -> TemplateVersion:
    """Edit a draft's parts, variables, sample data or AI slots; other statuses refuse."""
    version = get_version(session, key, number)
    if version.is_frozen:
        raise ImmutableVersion(
            f"version {number} of {key!r} is {version.status.value}; start a new draft from it"
        )
    _apply(version, changes)
    session.flush()
    return version


def submit(session: Session, key: str, number: int) -> TemplateVersion:
    """Freeze a draft for review: check it, pin its blocks and theme, and hash its closure."""
    version = get_version(session, key, number)
    if version.is_frozen:
        raise ImmutableVersion(f"version {number} of {key!r} is already {version.status.value}")
    checks.check_submittable(session, version)
    version.closure, version.closure_hash = pin_closure(session, version)
    version.move_to(Status.IN_REVIEW)
    session.flush()
    return version
