"""What waits for reviewers: the queue per stage role, and published versions due for re-review."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.governance.kinds import KINDS
from hcs.governance.models import Approval
from hcs.governance.policies import policy_for
from hcs.governance.workflow import approvals_of, next_stage
from templates_store.models import TemplateVersion, VersionMixin
from templates_store.orm import utcnow
from templates_store.status import Status


@dataclass(frozen=True)
class PendingReview:
    """A version in review and the stage that decides next."""

    kind: str
    key: str
    number: int
    author: str
    stage: str
    role: str
    submitted_at: datetime | None


def review_queue(
    session: Session,
    roles: Collection[str] | None = None,
    groups: Collection[str] | None = None,
    person: str | None = None,
) -> list[PendingReview]:
    """Versions in review whose next stage `roles` and `groups` decide (all when None).

    With `person`, only those they may decide: not a version they wrote or changed, nor one
    whose earlier stage they decided (four eyes).
    """
    queue = []
    for kind in KINDS.values():
        model = kind.version_model
        for version in session.scalars(select(model).where(model.status == Status.IN_REVIEW)):
            policy = policy_for(session, kind.category(version))
            decided = approvals_of(session, kind.name, version.id)
            stage = next_stage(policy, decided)
            if stage is None or (person and _is_barred(person, version, decided)):
                continue
            role = policy.stage(stage)["role"]
            held = groups is None or policy.group_of(stage) in groups
            if (roles is None or role in roles) and held:
                queue.append(
                    PendingReview(
                        kind.name,
                        kind.owner_of(version).key,
                        version.number,
                        version.author,
                        stage,
                        role,
                        version.submitted_at,
                    )
                )
    return sorted(queue, key=lambda p: (p.submitted_at or utcnow(), p.kind, p.key))


def _is_barred(person: str, version: VersionMixin, decided: Collection[Approval]) -> bool:
    """Whether four eyes keep `person` from deciding this version."""
    who = person.lower()
    changed = {name.lower() for name in version.changed_by}
    return who in changed or any(a.reviewer.lower() == who for a in decided)


def overdue_versions(session: Session, now: datetime | None = None) -> list[TemplateVersion]:
    """Published versions whose periodic re-review date has passed."""
    moment = now or utcnow()
    return list(
        session.scalars(
            select(TemplateVersion)
            .where(TemplateVersion.status == Status.PUBLISHED)
            .where(TemplateVersion.review_due_at < moment)
            .order_by(TemplateVersion.review_due_at)
        )
    )
