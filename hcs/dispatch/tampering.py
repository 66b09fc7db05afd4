"""Sent = approved: the closure hash of what is about to be rendered, against the approved one.

A published version edited in the database (past the application) renders something nobody
approved; the dispatcher checks each version once per process and stored hash, and a version
whose content no longer gives its approved hash sends nothing. "Approved" is read from the
approval rows and their sealed audit entries too, not only from the version row: rewriting a
row's content together with its stored hash is caught, and so is a pinned block or theme edited
the same way.
"""

from __future__ import annotations

import hashlib
import json

from prometheus_client import Counter
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.governance.closures import matches_approvals
from hcs.governance.kinds import decision_target
from hcs.messages.models import Message
from templates_store.closure import (
    closure_hash,
    is_component_intact,
    pinned_components,
    resolve_closure,
)
from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion

TAMPERED = "version_tampered"
TAMPERED_COUNT = Counter(
    "hcs_versions_tampered",
    "Messages refused because their version no longer gives its approved closure hash",
    ["channel"],
)
# (database, version id, approved hash, digest of the version's own row) of versions whose
# content gave that hash when checked: an edit of the row changes the key and is checked again;
# a tampered version is never remembered, so it is refused every time.
_intact: set[tuple[str, int, str, str]] = set()


def _row_digest(version: TemplateVersion) -> str:
    """A cheap digest of what the version's own row says (the closure hash also reads blocks)."""
    row = [version.parts, version.variables, version.ai_slots, version.closure]
    return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()


def is_tampered(session: Session, version: TemplateVersion) -> bool:
    """Whether what the version would render differs from what its reviewers approved.

    Its closure hash must equal the one on its row *and* the one each approving stage recorded;
    each pinned block and theme likewise gives its own approved hash.
    """
    approved = version.closure_hash
    if approved is None:
        return True  # a sendable version always has one: a missing hash was removed
    key = (str(session.get_bind().engine.url), version.id, approved, _row_digest(version))
    if key in _intact:
        return False
    closure = resolve_closure(session, version)
    computed = closure_hash(version, closure)
    target = decision_target("template", version.template.key, version.number)
    if computed != approved or not matches_approvals(
        session, "template", version, target, computed
    ):
        return True
    if not all(_component_approved(session, pinned) for pinned in pinned_components(closure)):
        return True
    _intact.add(key)
    return False


def _component_approved(session: Session, component: BlockVersion | ThemeVersion) -> bool:
    if isinstance(component, BlockVersion):
        kind, key = "block", component.block.key
    else:
        kind, key = "theme", component.theme.key
    target = decision_target(kind, key, component.number)
    return is_component_intact(component) and matches_approvals(
        session, kind, component, target, str(component.closure_hash)
    )


def note_tampered(session: Session, message: Message, version: TemplateVersion) -> None:
    """The audit entry and the metric of a message refused for a tampered version."""
    TAMPERED_COUNT.labels(message.channel).inc()
    record(
        session,
        actor="dispatcher",
        action=f"message.{TAMPERED}",
        target_type="message",
        target=message.id,
        detail={
            "template": message.template_key,
            "version": message.version_number,
            "approved": version.closure_hash,
        },
    )
