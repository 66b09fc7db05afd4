"""The review workflow's moves: stage decisions, the checks before review, publishing, retiring.

Every function takes primitives or model objects and never commits; `hcs.governance.authoring`
calls them and writes the audit entry of each action.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hcs.ai.slots import check_slots
from hcs.errors import NotInGroup, PermissionDenied, SeparationOfDuties
from hcs.governance.checks import blocking, run_checks
from hcs.governance.models import Approval
from hcs.governance.policies import Policy, policy_for
from hcs.identity.groups import groups_of
from templates_store import versioning
from templates_store.closure import resolve_closure
from templates_store.errors import Conflict, ValidationFailed
from templates_store.lookup import get_template, get_version
from templates_store.models import Template, TemplateVersion, VersionMixin
from templates_store.orm import utcnow
from templates_store.status import SENDABLE, Status


class Unset:
    """The value of an expectation nobody gave."""


UNSET = Unset()


@dataclass(frozen=True)
class Published:
    """What a publish did: the version now sending, the one it replaced, how to name the move."""

    version: VersionMixin
    replaced: int | None
    verb: str = "publish"  # or "rollback"
    facts: dict[str, Any] = field(default_factory=dict)


def approvals_of(session: Session, subject_type: str, subject_id: int) -> list[Approval]:
    """The stage decisions recorded for one version, oldest first."""
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.subject_type == subject_type, Approval.subject_id == subject_id)
            .order_by(Approval.id)
        )
    )


def next_stage(policy: Policy, decided: list[Approval]) -> str | None:
    """The first stage of the policy that has not approved yet."""
    approved = {a.stage for a in decided if a.decision == "approved"}
    return next((name for name in policy.stage_names if name not in approved), None)


def _check_reviewer(
    version: VersionMixin, decided: list[Approval], stage: str, reviewer: str
) -> None:
    if reviewer.lower() == version.author.lower():
        raise SeparationOfDuties(
            f"you wrote version {version.number}; another reviewer must decide on it"
        )
    if reviewer.lower() in {who.lower() for who in version.changed_by}:
        raise SeparationOfDuties(
            f"you changed version {version.number} (edited or submitted it); "
            "a reviewer who did not must decide on it"
        )
    earlier = next((a for a in decided if a.reviewer.lower() == reviewer.lower()), None)
    if earlier is not None:
        raise SeparationOfDuties(
            f"you already decided stage {earlier.stage!r}; another reviewer must decide {stage!r}"
        )


def _stage_to_decide(
    session: Session, subject_type: str, version: VersionMixin, policy: Policy, stage: str | None
) -> tuple[str, list[Approval]]:
    decided = approvals_of(session, subject_type, version.id)
    current = next_stage(policy, decided)
    if current is None:  # pragma: no cover - a complete policy has already moved the version
        raise Conflict("every stage has decided already")
    if stage is not None and stage != current:
        raise Conflict(f"stage {stage!r} is out of order: {current!r} decides next")
    return current, decided


def decide_stage(
    session: Session,
    subject_type: str,
    version: VersionMixin,
    policy: Policy,
    *,
    reviewer: str,
    roles: Collection[str],
    approve: bool,
    comment: str,
    stage: str | None = None,
) -> Approval:
    """Record one stage's decision, moving the version when the policy is complete or rejected."""
    if version.status is not Status.IN_REVIEW:
        verb = "approved" if approve else "rejected"
        raise Conflict(
            f"version {version.number} is {version.status.value}; only a version in review "
            f"can be {verb}"
        )
    current, decided = _stage_to_decide(session, subject_type, version, policy, stage)
    if not approve and not comment.strip():
        raise ValidationFailed({"comment": ["a rejection needs a comment for the author"]})
    _check_reviewer(version, decided, current, reviewer)
    role = policy.stage(current)["role"]
    if role not in roles:
        raise PermissionDenied(f"stage {current!r} is decided by the {role} role")
    group = policy.group_of(current)
    if group not in groups_of(session, reviewer):
        raise NotInGroup(
            f"stage {current!r} is held by the group {group!r}; you are not a member of it"
        )
    decision = Approval(
        subject_type=subject_type,
        subject_id=version.id,
        stage=current,
        reviewer=reviewer,
        decision="approved" if approve else "rejected",
        comment=comment,
        closure_hash=getattr(version, "closure_hash", None),
    )
    try:
        with session.begin_nested():
            session.add(decision)
    except IntegrityError as exc:
        raise Conflict(f"stage {current!r} has just been decided by someone else") from exc
    if not approve:
        version.move_to(Status.REJECTED)
    elif next_stage(policy, [*decided, decision]) is None:
        version.move_to(Status.APPROVED)
    session.flush()
    return decision


def check_pins_approved(session: Session, version: TemplateVersion) -> None:
    """Refuse a version whose blocks or theme have no approved version to pin."""
    closure = resolve_closure(session, version)
    errors = {
        f"blocks.{key}": [f"version {b.number} is {b.status.value}; approve a version first"]
        for key, b in closure.blocks.items()
        if b.status not in SENDABLE
    }
    theme = closure.theme
    if theme is not None and theme.status not in SENDABLE:
        errors["theme"] = [f"version {theme.number} is {theme.status.value}; approve it first"]
    if errors:
        raise ValidationFailed(errors)


def freeze_template(session: Session, key: str, number: int) -> TemplateVersion:
    """Run the policy's checks and, when none blocks, freeze the draft for review."""
    version = get_version(session, key, number)
    if version.is_frozen:
        raise Conflict(f"version {number} of {key!r} is already {version.status.value}")
    policy = policy_for(session, version.template.category)
    check_slots(
        version.ai_slots,
        version.variables,
        version.template.category,
        **policy.guardrail_options(),
    )
    errors = blocking(run_checks(session, version, policy))
    if errors:
        raise ValidationFailed(errors)
    check_pins_approved(session, version)
    return versioning.submit(session, key, number)


def check_approved_by_others(session: Session, subject_type: str, version: VersionMixin) -> None:
    """Refuse to publish a version that one of the people who changed it approved."""
    changed = {who.lower() for who in version.changed_by}
    own = [
        a
        for a in approvals_of(session, subject_type, version.id)
        if a.decision == "approved" and a.reviewer.lower() in changed
    ]
    if own:
        raise SeparationOfDuties(
            f"stage {own[0].stage!r} of version {version.number} was approved by "
            f"{own[0].reviewer}, who changed it; it cannot be published"
        )


def swap_published(
    session: Session,
    versions: Sequence[VersionMixin],
    version: VersionMixin,
    replaces: int | None | Unset = UNSET,
) -> VersionMixin | None:
    """Publish an approved (or superseded) version; the one published before is superseded.

    `replaces` is the published version the caller saw (None: none): another one is a Conflict,
    and so is a publish that lost a race to another (a conditional update of the current one).
    """
    if version.status not in (Status.APPROVED, Status.SUPERSEDED):
        raise Conflict(
            f"version {version.number} is {version.status.value}; "
            "only approved versions can be published"
        )
    current = next((v for v in versions if v.status is Status.PUBLISHED), None)
    seen = current.number if current else None
    if not isinstance(replaces, Unset) and replaces != seen:
        now = f"version {seen} is published" if seen else "no version is published"
        raise Conflict(f"{now}, not {replaces}: someone else published just now; reload")
    if current is not None:
        model = type(current)
        moved = session.execute(
            update(model)
            .where(model.id == current.id, model.status == Status.PUBLISHED)
            .values(status=Status.SUPERSEDED)
            .execution_options(synchronize_session="fetch")
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            raise Conflict(f"another version was published just now, replacing {current.number}")
    version.move_to(Status.PUBLISHED)
    return current


def publish_version(
    session: Session, versions: Sequence[VersionMixin], version: VersionMixin
) -> Published:
    """Publish a block or theme version: new template versions pin it from now on."""
    current = swap_published(session, versions, version)
    try:
        session.flush()
    except IntegrityError as exc:  # another publish won the race
        raise Conflict("another version was published just now") from exc
    return Published(version, current.number if current else None)


def publish_template(
    session: Session, key: str, number: int, replaces: int | None | Unset = UNSET
) -> Published:
    """Make an approved version the one that sends; publishing an older one is a rollback."""
    template = get_template(session, key)
    if template.retired_at is not None:
        raise Conflict(f"template {key!r} is retired")
    version = get_version(session, key, number)
    was_superseded = version.status is Status.SUPERSEDED
    current = swap_published(session, template.versions, version, replaces)
    now = utcnow()
    version.published_at = now
    version.review_due_at = now + timedelta(days=policy_for(session, template.category).review_days)
    try:
        session.flush()
    except IntegrityError as exc:  # another publish of this template won the race
        raise Conflict(f"template {key!r} was published by someone else just now") from exc
    is_rollback = was_superseded or bool(current and current.number > number)
    return Published(
        version,
        current.number if current else None,
        "rollback" if is_rollback else "publish",
        {"review_due_at": version.review_due_at.isoformat()},
    )


def retire_template(session: Session, key: str) -> tuple[Template, list[int]]:
    """Stop every send of a template: its sendable versions retire with it (their numbers)."""
    template = get_template(session, key)
    if template.retired_at is not None:
        raise Conflict(f"template {key!r} is already retired")
    retired = []
    for version in template.versions:
        if version.status in SENDABLE:
            version.move_to(Status.RETIRED)
            retired.append(version.number)
    template.retired_at = utcnow()
    session.flush()
    return template, retired
