"""What waits for one person, and the template catalogue with each template's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.governance.models import Approval
from hcs.governance.reviews import PendingReview, overdue_versions, review_queue
from hcs.identity.groups import groups_of
from hcs.identity.principal import Principal
from hcs.signoffs.models import SignoffItem
from hcs.signoffs.queue import list_items
from templates_store.lookup import published_version, search_templates
from templates_store.models import ContentBlock, Template, TemplateVersion
from templates_store.orm import utcnow
from templates_store.status import Status


@dataclass(frozen=True)
class Worklist:
    """A person's drafts, the reviews their roles decide, sign-offs and overdue re-reviews."""

    drafts: list[TemplateVersion] = field(default_factory=list)
    reviews: list[PendingReview] = field(default_factory=list)
    signoffs: list[SignoffItem] = field(default_factory=list)
    overdue: list[TemplateVersion] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class Rejection:
    """A version of the person's that a reviewer rejected, and what they said."""

    version: TemplateVersion
    stage: str
    reviewer: str
    comment: str


def rejections_of(session: Session, author: str, limit: int = 10) -> list[Rejection]:
    """Template versions `author` wrote that were rejected, newest decision first."""
    query = (
        select(TemplateVersion, Approval)
        .join(Approval, Approval.subject_id == TemplateVersion.id)
        .where(
            Approval.subject_type == "template",
            Approval.decision == "rejected",
            TemplateVersion.author == author,
            TemplateVersion.status == Status.REJECTED,
        )
        .order_by(Approval.at.desc())
        .limit(limit)
    )
    return [Rejection(v, a.stage, a.reviewer, a.comment) for v, a in session.execute(query)]


def drafts_by(session: Session, author: str) -> list[TemplateVersion]:
    """Drafts `author` wrote, newest first."""
    query = (
        select(TemplateVersion)
        .where(TemplateVersion.status == Status.DRAFT, TemplateVersion.author == author)
        .order_by(TemplateVersion.updated_at.desc())
    )
    return list(session.scalars(query))


def waiting_for(session: Session, principal: Principal) -> Worklist:
    """What waits for `principal`, by the roles they hold."""
    roles = principal.roles
    return Worklist(
        drafts=drafts_by(session, principal.email) if "author" in roles else [],
        reviews=review_queue(session, roles, groups_of(session, principal.email), principal.email)
        if "reviewer" in roles
        else [],
        rejections=rejections_of(session, principal.email) if "author" in roles else [],
        signoffs=list_items(session) if "signoff" in roles else [],
        overdue=overdue_versions(session) if roles & {"reviewer", "admin"} else [],
    )


def catalogue(
    session: Session,
    *,
    q: str = "",
    category: str | None = None,
    channel: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Templates matching the filters, each with its newest status, owner and review date."""
    rows = [
        _row(item) for item in search_templates(session, q=q, category=category, channel=channel)
    ]
    return [row for row in rows if not status or row["status"] == status]


def _row(item: Template) -> dict[str, Any]:
    newest = item.versions[-1] if item.versions else None
    published = published_version(item)
    due = published.review_due_at if published else None
    status = "retired" if item.retired_at else (newest.status.value if newest else "empty")
    return {
        "template": item,
        "status": status,
        "newest": newest,
        "published": published,
        "review_due_at": due,
        "overdue": bool(due and due < utcnow()),
    }


def block_catalogue(session: Session) -> list[ContentBlock]:
    """Every content block an author may include, by key."""
    return list(session.scalars(select(ContentBlock).order_by(ContentBlock.key)))
