"""People and API keys: who may act, and with what rights."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from templates_store.orm import Base, utcnow

ROLES = ("author", "reviewer", "signoff", "auditor", "admin")
SCOPES = ("send", "read", "templates", "review", "signoff", "admin")
# Scopes that only a person's role can back: a system key may never review or sign off.
PERSONAL_SCOPES = frozenset({"review", "signoff"})
# The reviewer groups every installation has; an admin makes more by naming them.
GROUPS = ("legal", "brand", "security", "component")
GROUP_NAME = re.compile(r"[a-z][a-z0-9_-]{0,49}")


def bad_groups(names: Iterable[str]) -> list[str]:
    """The names that cannot be a group (lower-case letters, digits, `-`, `_`; 1 to 50)."""
    return [name for name in names if not GROUP_NAME.fullmatch(str(name))]


class User(Base):
    """A person who signs in to the web editor or holds API keys."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSON)
    # The reviewer groups the person belongs to: a stage is decided by a member of its group.
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(255))
    # The person's own phone (E.164): where a test SMS or chat message they send goes.
    phone: Mapped[str | None] = mapped_column(String(32))
    # When the person proved they hold `phone` (a code sent to it, or an admin's word); None:
    # unverified, and no test goes there. Changing the number clears it.
    phone_verified_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of every web session's id: raising it ends all of this person's sessions at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.roles}>"


class PhoneCode(Base):
    """A person's one-time code for proving their phone: only its keyed hash is kept."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    # HMAC-SHA256 of the user, number and code under the secret key; "" once used.
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    # Codes sent in the window that started at `window_started_at` (the resend limit).
    sends: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    last_sent_at: Mapped[datetime]


class ApiKey(Base):
    """A scoped API key; only a hash of its secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # A test key's messages are rendered and recorded like live ones, never handed to a provider.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User | None] = relationship(lazy="joined")

    @property
    def is_revoked(self) -> bool:
        """Whether the key was revoked and no longer authenticates."""
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<ApiKey {self.name} {self.prefix} {self.scopes}>"
