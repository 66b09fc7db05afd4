"""Closure hashes at review: what the reviewer saw, what the version still gives, what was approved.

A version's closure hash is stored on its row at submission; each approval keeps its own copy
(and its audit entry another), so a row whose content and stored hash were both rewritten by hand
still disagrees with what the reviewers approved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.governance.models import Approval
from templates_store.closure import is_component_intact, verify_closure
from templates_store.errors import Conflict
from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion, VersionMixin


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


def matches_approvals(session: Session, subject_type: str, subject_id: int, computed: str) -> bool:
    """Whether at least one stage approved `computed` and every approving stage approved it."""
    recorded = approved_hashes(session, subject_type, subject_id)
    return bool(recorded) and all(found == computed for found in recorded)
