"""Sent = approved: the closure hash of what is about to be rendered, against the approved one.

A published version edited in the database (past the application) renders something nobody
approved; the dispatcher checks each version once per process and stored hash, and a version
whose content no longer gives its approved hash sends nothing.
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.messages.models import Message
from templates_store.closure import closure_hash, resolve_closure
from templates_store.models import TemplateVersion

TAMPERED = "version_tampered"
TAMPERED_COUNT = Counter(
    "hcs_versions_tampered",
    "Messages refused because their version no longer gives its approved closure hash",
    ["channel"],
)
# (database, version id, approved hash) of versions whose content gave that hash when checked;
# a tampered one is never remembered, so it is checked again (and refused) every time.
_intact: set[tuple[str, int, str]] = set()


def is_tampered(session: Session, version: TemplateVersion) -> bool:
    """Whether the version's content (with its pinned blocks and theme) differs from approved."""
    approved = version.closure_hash
    if approved is None:
        return True  # a sendable version always has one: a missing hash was removed
    key = (str(session.get_bind().url), version.id, approved)
    if key in _intact:
        return False
    if closure_hash(version, resolve_closure(session, version)) != approved:
        return True
    _intact.add(key)
    return False


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
