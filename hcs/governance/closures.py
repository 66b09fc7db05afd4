"""Closure hashes at review: what the reviewer saw, what the version still gives, what was approved.

A version's closure hash is stored on its row at submission; each approval keeps its own copy
(and its audit entry another), so a row whose content and stored hash were both rewritten by hand
still disagrees with what the reviewers approved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.audit import AuditEntry
from hcs.governance.kinds import decision_target
from hcs.governance.models import Approval
from templates_store.closure import is_component_intact, verify_closure
from templates_store.errors import Conflict
from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion, VersionMixin
from templates_store.status import Status


def check_closure(session: Session, version: VersionMixin, shown: str | None) -> None:
    """Refuse a decision on a version whose closure is not the one the reviewer saw."""
    stored = getattr(version, "closure_hash", None)
    if stored is None:
        if version.is_frozen:  # submission always stores one: it was removed since
            raise Conflict(f"version {version.number} has lost its closure hash; it is refused")
        return
    if shown is not None and shown != stored:
        raise Conflict(
            f"the closure hash you saw ({shown}) is not version {version.number}'s "
            f"({stored}); reload it and review again"
        )
    if not is_intact(session, version):
        raise Conflict(
            f"version {version.number}'s content no longer matches its closure hash "
            f"{stored}: it was changed after it was submitted"
        )


def is_intact(session: Session, version: VersionMixin) -> bool:
    """Whether a submitted version (template, block or theme) still gives its stored hash."""
    if isinstance(version, TemplateVersion):
        return verify_closure(session, version)
    if isinstance(version, BlockVersion | ThemeVersion):
        return is_component_intact(version)
    return True  # pragma: no cover - every reviewed kind is one of the three


def approved_hashes(session: Session, subject_type: str, subject_id: int) -> list[str | None]:
    """The closure hash each approving decision on one version recorded, oldest first."""
    return list(
        session.scalars(
            select(Approval.closure_hash)
            .where(
                Approval.subject_type == subject_type,
                Approval.subject_id == subject_id,
                Approval.decision == "approved",
            )
            .order_by(Approval.id)
        )
    )


def audited_hashes(session: Session, subject_type: str, target: str) -> list[str]:
    """The closure hashes the sealed `<kind>.approve` audit entries of one version recorded."""
    afters = session.scalars(
        select(AuditEntry.after).where(
            AuditEntry.action == f"{subject_type}.approve", AuditEntry.target == target
        )
    )
    # Entries written before decisions recorded their hash carry none: nothing to compare.
    return [after["closure_hash"] for after in afters if after and after.get("closure_hash")]


def matches_approvals(
    session: Session, subject_type: str, version: VersionMixin, target: str, computed: str
) -> bool:
    """Whether `computed` is what every approving stage decided, by its row and its audit entry.

    At least one approving decision must exist; `target` names the version in the audit log.
    """
    recorded = approved_hashes(session, subject_type, version.id)
    if not recorded or any(found != computed for found in recorded):
        return False
    return all(found == computed for found in audited_hashes(session, subject_type, target))


def check_publishable(session: Session, kind: str, key: str, version: VersionMixin) -> None:
    """Refuse to publish a version that no longer gives the hash its reviewers approved."""
    if version.status not in (Status.APPROVED, Status.SUPERSEDED):
        return  # publishing refuses it for its status, with its own message
    check_closure(session, version, None)
    stored = getattr(version, "closure_hash", None)
    target = decision_target(kind, key, version.number)
    if stored is not None and not matches_approvals(session, kind, version, target, stored):
        raise Conflict(
            f"version {version.number}'s closure hash {stored} is not the one its reviewers "
            "approved: it was changed after the approval"
        )
