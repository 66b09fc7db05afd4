"""People: creating them, their roles, disabling them, and checking their passwords."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from functools import cache

import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from hcs import audit
from hcs.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from hcs.identity.models import ROLES, User, bad_groups
from hcs.identity.principal import PRINCIPALS_CHANGED
from templates_store.orm import utcnow

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
BAD_LOGIN = "the email or password is not correct"

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Checked against when the email is unknown, so that answer takes as long as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    """The stored form of an email address: validated, lower-case."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": [str(exc)]}) from exc
    return checked.normalized.lower()


def check_roles(roles: Sequence[str]) -> list[str]:
    """The roles in their canonical order; refuses unknown ones and an empty list."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValidationFailed({"roles": [f"unknown role {', '.join(unknown)}; use {ROLES}"]})
    if not roles:
        raise ValidationFailed({"roles": ["give at least one role"]})
    return [role for role in ROLES if role in roles]


def check_groups(groups: Sequence[str], field: str = "groups") -> list[str]:
    """Group names, sorted and each once; refuses a name that cannot be a group."""
    bad = bad_groups(groups)
    if bad:
        message = f"{', '.join(map(str, bad))} cannot be a group name (a-z, 0-9, - and _)"
        raise ValidationFailed({field: [message]})
    return sorted(set(groups))


def _check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        message = f"use between {MIN_PASSWORD} and {MAX_PASSWORD} characters"
        raise ValidationFailed({"password": [message]})
    return password


def find_user(session: Session, email: str) -> User | None:
    """The user with this email (any case), or None."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(session: Session, email: str) -> User:
    """The user with this email; NotFound otherwise."""
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user {email.strip().lower()}")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by email."""
    return list(session.scalars(select(User).order_by(User.email)))


def create_user(
    session: Session,
    *,
    email: str,
    roles: Sequence[str],
    password: str | None = None,
    name: str = "",
    groups: Sequence[str] = (),
    actor: str,
) -> tuple[User, str | None]:
    """Add a person; returns the generated password when none was given (shown once)."""
    email = normalise_email(email)
    roles = check_roles(roles)
    groups = check_groups(groups)
    generated = None if password is not None else secrets.token_urlsafe(18)
    password = _check_password(password if password is not None else generated or "")
    if find_user(session, email) is not None:
        raise Conflict(f"user {email} already exists")
    user = User(
        email=email,
        name=name.strip(),
        roles=roles,
        groups=groups,
        password_hash=_hasher.hash(password),
    )
    session.add(user)
    session.flush()
    after = {"email": email, "name": user.name, "roles": roles, "groups": groups}
    audit.record(
        session, actor=actor, action="user.create", target_type="user", target=email, after=after
    )
    return user, generated


def _active_admins(session: Session) -> list[User]:
    return [user for user in list_users(session) if user.is_active and "admin" in user.roles]


def _keep_an_admin(session: Session, user: User) -> None:
    if _active_admins(session) == [user]:
        raise Conflict(f"{user.email} is the last active admin")


def end_sessions(user: User) -> None:
    """End every web session of this person (sign-out, disabling, new roles or password).

    Their API keys are checked afresh too: processes forget the keys they remember on commit.
    """
    user.session_generation += 1
    session = object_session(user)
    if session is not None:
        session.info[PRINCIPALS_CHANGED] = True


def set_roles(session: Session, email: str, roles: Sequence[str], *, actor: str) -> User:
    """Replace a person's roles."""
    user = get_user(session, email)
    roles = check_roles(roles)
    if "admin" not in roles:
        _keep_an_admin(session, user)
    before = {"roles": list(user.roles)}
    user.roles = roles
    end_sessions(user)
    audit.record(
        session,
        actor=actor,
        action="user.roles",
        target_type="user",
        target=user.email,
        before=before,
        after={"roles": roles},
    )
    return user


def _set_active(session: Session, email: str, active: bool, *, actor: str) -> User:
    user = get_user(session, email)
    if user.is_active == active:
        raise Conflict(f"user {user.email} is already {'enabled' if active else 'disabled'}")
    if not active:
        _keep_an_admin(session, user)
    user.is_active = active
    end_sessions(user)  # re-enabling does not revive the sessions disabling ended
    audit.record(
        session,
        actor=actor,
        action="user.enable" if active else "user.disable",
        target_type="user",
        target=user.email,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return user


def disable_user(session: Session, email: str, *, actor: str) -> User:
    """Stop a person from signing in; their API keys stop working too."""
    return _set_active(session, email, False, actor=actor)


def enable_user(session: Session, email: str, *, actor: str) -> User:
    """Let a disabled person sign in again."""
    return _set_active(session, email, True, actor=actor)


def set_password(
    session: Session, email: str, password: str | None = None, *, actor: str
) -> str | None:
    """Replace a person's password; returns the generated one when none was given."""
    user = get_user(session, email)
    generated = None if password is not None else secrets.token_urlsafe(18)
    user.password_hash = _hasher.hash(_check_password(password or generated or ""))
    end_sessions(user)
    audit.record(
        session, actor=actor, action="user.password", target_type="user", target=user.email
    )
    return generated


def authenticate_password(session: Session, email: str, password: str) -> User:
    """The active user with this email and password; AuthenticationFailed, one message, else."""
    user = find_user(session, email) if len(email) <= 254 else None
    candidate = password if len(password) <= MAX_PASSWORD else ""
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), candidate)
    except (VerificationError, InvalidHashError) as exc:
        raise AuthenticationFailed(BAD_LOGIN) from exc
    if user is None or not user.is_active or not candidate:
        raise AuthenticationFailed(BAD_LOGIN)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(candidate)
    user.last_login_at = utcnow()
    return user


def record_failed_login(session: Session, email: str, *, address: str) -> None:
    """Note a refused sign-in in the audit log: the email as typed and the caller's address."""
    audit.record(
        session,
        actor="anonymous",
        action="auth.login_failed",
        target_type="user",
        target=email.strip().lower()[:254],
        detail={"address": address},
    )


def ensure_admin(session: Session, email: str, *, actor: str) -> str | None:
    """Create an admin with a generated password when there is no active admin; the password."""
    if _active_admins(session):
        return None
    _, password = create_user(
        session, email=email, roles=["admin"], name="Administrator", actor=actor
    )
    return password


def set_phone(session: Session, email: str, phone: str, *, actor: str) -> User:
    """Set (or, with "", clear) a person's own phone number, stored as E.164.

    A different number is unverified until proven (`hcs.identity.phones`).
    """
    user = get_user(session, email)
    before = {"phone": user.phone, "verified": user.phone_verified_at is not None}
    number = e164(phone) if phone.strip() else None
    if number != user.phone:
        user.phone, user.phone_verified_at = number, None
    audit.record(
        session,
        actor=actor,
        action="user.phone",
        target_type="user",
        target=user.email,
        before=before,
        after={"phone": user.phone, "verified": user.phone_verified_at is not None},
    )
    return user


def e164(phone: str) -> str:
    """A phone number in E.164; ValidationFailed naming `phone` when it is not one."""
    try:
        number = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        message = "is not a phone number: start with + and the country code"
        raise ValidationFailed({"phone": [message]}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed({"phone": ["is not a valid phone number"]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
