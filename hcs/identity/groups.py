"""Reviewer groups: who belongs to which, changed by name and audited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from hcs import audit
from hcs.identity.models import GROUPS, User
from hcs.identity.users import check_groups, find_user, get_user, list_users


def groups_of(session: Session, email: str) -> set[str]:
    """The groups a person belongs to (none for an unknown email or a system key)."""
    user = find_user(session, email) if "@" in email else None
    return set(user.groups or []) if user is not None and user.is_active else set()


def change_groups(
    session: Session,
    email: str,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    actor: str,
) -> User:
    """Add a person to groups and take them out of others (audited as `user.groups`)."""
    user = get_user(session, email)
    added, removed = check_groups(add, "add"), check_groups(remove, "remove")
    before = sorted(user.groups or [])
    after = sorted((set(before) | set(added)) - set(removed))
    user.groups = after
    audit.record(
        session,
        actor=actor,
        action="user.groups",
        target_type="user",
        target=user.email,
        before={"groups": before},
        after={"groups": after},
    )
    return user


def members_by_group(session: Session) -> dict[str, list[str]]:
    """Every built-in group and every group someone holds, with its members' emails."""
    members: dict[str, list[str]] = {name: [] for name in GROUPS}
    for user in list_users(session):
        for name in user.groups or []:
            members.setdefault(name, []).append(user.email)
    return dict(sorted(members.items()))
