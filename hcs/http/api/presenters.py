"""Plain dicts of what the API shows; the views build them, the schemas dump them."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from hcs.governance.kinds import policy_of
from hcs.governance.workflow import approvals_of, next_stage
from templates_store.lookup import published_version
from templates_store.models import (
    BlockVersion,
    ContentBlock,
    Template,
    TemplateVersion,
    Theme,
    ThemeVersion,
    VersionMixin,
)
from templates_store.orm import utcnow
from templates_store.parts import stale_translations
from templates_store.status import Status

T = TypeVar("T")


def summary(version: VersionMixin) -> dict[str, Any]:
    """The few fields a version shows in a list."""
    return {
        "number": version.number,
        "status": version.status.value,
        "author": version.author,
        "contributors": version.changed_by,
        "created_at": version.created_at,
        "submitted_at": version.submitted_at,
        "published_at": getattr(version, "published_at", None),
    }


def _shown_as(model: type[T], item: object) -> T:
    """`item` as the model class a presenter shows (the registry hands out any kind's)."""
    if not isinstance(item, model):
        raise TypeError(f"a {type(item).__name__} is not shown as a {model.__name__}")
    return item


def template(owner: Template | ContentBlock | Theme) -> dict[str, Any]:
    """A template with its published version and its versions."""
    item = _shown_as(Template, owner)
    published = published_version(item)
    due = published.review_due_at if published else None
    return {
        "key": item.key,
        "name": item.name,
        "description": item.description,
        "category": item.category,
        "channels": item.channels,
        "default_locale": item.default_locale,
        "owner_team": item.owner_team,
        "theme": item.theme_key,
        "published_version": published.number if published else None,
        "retired": item.retired_at is not None,
        "review_due_at": due,
        "overdue": bool(due and due < utcnow()),
        "versions": [summary(v) for v in item.versions],
    }


def _approvals(
    session: Session, kind: str, version: VersionMixin
) -> tuple[list[dict[str, Any]], str | None]:
    decided = approvals_of(session, kind, version.id)
    pending = None
    if version.status is Status.IN_REVIEW:
        pending = next_stage(policy_of(session, kind, version), decided)
    shown = [
        {
            "stage": a.stage,
            "by": a.reviewer,
            "decision": a.decision,
            "comment": a.comment,
            "at": a.at,
            "closure_hash": a.closure_hash,
        }
        for a in decided
    ]
    return shown, pending


def version(
    session: Session, shown: TemplateVersion | BlockVersion | ThemeVersion
) -> dict[str, Any]:
    """A template version in full, with its approvals and stale translations."""
    item = _shown_as(TemplateVersion, shown)
    approvals, pending = _approvals(session, "template", item)
    return {
        **summary(item),
        "based_on": item.based_on,
        "updated_at": item.updated_at,
        "review_due_at": item.review_due_at,
        "parts": item.parts,
        "variables": item.variables,
        "sample_data": item.sample_data,
        "ai_slots": item.ai_slots,
        "approvals": approvals,
        "next_stage": pending,
        "closure": item.closure,
        "closure_hash": item.closure_hash,
        "stale_translations": stale_translations(
            item.parts, item.translation_sources, item.template.default_locale
        ),
    }


def component(item: Template | ContentBlock | Theme) -> dict[str, Any]:
    """A block or theme with its versions."""
    if isinstance(item, Template):
        raise TypeError("a template is not shown as a block or theme")
    published = next((v for v in item.versions if v.status is Status.PUBLISHED), None)
    return {
        "key": item.key,
        "name": item.name,
        "description": getattr(item, "description", ""),
        "published_version": published.number if published else None,
        "versions": [summary(v) for v in item.versions],
    }


def component_version(
    session: Session, kind: str, item: TemplateVersion | BlockVersion | ThemeVersion
) -> dict[str, Any]:
    """A block or theme version in full."""
    if isinstance(item, TemplateVersion):
        raise TypeError("a template version is not shown as a block or theme version")
    approvals, pending = _approvals(session, kind, item)
    shown: dict[str, Any] = {**summary(item), "approvals": approvals, "next_stage": pending}
    shown["closure_hash"] = item.closure_hash
    if isinstance(item, BlockVersion):
        shown["content"] = item.content
    else:
        shown["settings"] = item.settings
        shown["assets"] = sorted(item.assets)
    return shown
