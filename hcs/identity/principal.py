"""Who is acting: a signed-in person, a person's API key, or a system key."""

from __future__ import annotations

from dataclasses import dataclass

from hcs.identity.models import PERSONAL_SCOPES, User

# Marks (in `Session.info`) a transaction that changes who an API key stands for: processes
# forget the keys they remember when it commits (`hcs.identity.keycache`).
PRINCIPALS_CHANGED = "hcs.principals_changed"


@dataclass(frozen=True)
class Principal:
    """The identity behind one request, and what it may do."""

    email: str  # the person's email, or "apikey:<name>" for a system key
    user_id: int | None
    roles: frozenset[str]
    scopes: frozenset[str] | None  # None for a person in the browser: their roles decide
    key_name: str | None = None
    is_test: bool = False  # a test key: its messages never reach a provider

    @property
    def is_person(self) -> bool:
        """Whether a person stands behind this principal (in the browser or through a key)."""
        return self.user_id is not None

    def may(self, role: str, scope: str) -> bool:
        """Whether this principal may act where `role` (for people) and `scope` (keys) are needed.

        Roles never imply one another (an admin is not a reviewer: separation of duties). A
        system key has only its scopes and never the scopes that need a person's judgement.
        """
        if self.scopes is None:
            return role in self.roles
        if self.user_id is None:
            return scope in self.scopes and scope not in PERSONAL_SCOPES
        return role in self.roles and scope in self.scopes

    @property
    def sees_all_messages(self) -> bool:
        """Whether the message log shows this principal everyone's messages, not just its own.

        Admins and auditors see all; a system key sees all only with the `admin` scope.
        """
        if self.user_id is None and self.scopes is not None:
            return "admin" in self.scopes
        return self.may("admin", "read") or self.may("auditor", "read")


def principal_for(user: User) -> Principal:
    """The principal of a person signed in through the browser."""
    return Principal(email=user.email, user_id=user.id, roles=frozenset(user.roles), scopes=None)
