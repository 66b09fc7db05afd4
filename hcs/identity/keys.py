"""API keys: shown once, stored as a hash, scoped, revocable, and a person's when made for one."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from hcs import audit
from hcs.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from hcs.identity.models import PERSONAL_SCOPES, SCOPES, ApiKey, User
from hcs.identity.principal import PRINCIPALS_CHANGED, Principal
from hcs.identity.users import get_user
from templates_store.orm import utcnow

KEY_PATTERN = re.compile(r"(hcs_[0-9a-f]{8})_[A-Za-z0-9_-]{43}")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
BAD_KEY = "the API key is not valid"

# Writing last_used_at on every request would make each API call a write; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(presented: str) -> str:
    # SHA-256 rather than Argon2: the secret is 256 random bits, so nobody can guess it from the
    # hash however fast the hash is; slow hashes protect low-entropy passwords, and a fast one
    # keeps the check off the latency of every API request.
    return hashlib.sha256(presented.encode()).hexdigest()


def check_scopes(scopes: Sequence[str], *, personal: bool) -> list[str]:
    """The scopes in their canonical order; refuses unknown ones, and review/signoff for systems."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationFailed({"scopes": [f"unknown scope {', '.join(unknown)}; use {SCOPES}"]})
    if not scopes:
        raise ValidationFailed({"scopes": ["give at least one scope"]})
    needs_person = sorted(PERSONAL_SCOPES & set(scopes))
    if needs_person and not personal:
        message = f"{', '.join(needs_person)} need a person: make the key for a user"
        raise ValidationFailed({"scopes": [message]})
    return [scope for scope in SCOPES if scope in scopes]


def get_api_key(session: Session, name: str) -> ApiKey:
    """The key with this name; NotFound otherwise."""
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound(f"no API key {name}")
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, by name."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.name)))


def _new_prefix(session: Session) -> str:
    while True:
        prefix = f"hcs_{secrets.token_hex(4)}"
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            return prefix


def create_api_key(
    session: Session,
    *,
    name: str,
    scopes: Sequence[str],
    user_email: str | None = None,
    actor: str,
    is_test: bool = False,
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is shown once and never stored."""
    if not NAME_PATTERN.fullmatch(name):
        message = "use up to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise ValidationFailed({"name": [message]})
    scopes = check_scopes(scopes, personal=user_email is not None)
    user = get_user(session, user_email) if user_email is not None else None
    if user is not None and not user.is_active:
        raise ValidationFailed({"user": [f"{user.email} is disabled"]})
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"API key {name} already exists")
    prefix = _new_prefix(session)
    plaintext = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=_digest(plaintext),
        scopes=scopes,
        user=user,
        created_by=actor,
        is_test=is_test,
    )
    session.add(key)
    session.flush()
    after = {
        "name": name,
        "prefix": prefix,
        "scopes": scopes,
        "user": user.email if user else None,
        "test": is_test,
    }
    audit.record(
        session, actor=actor, action="apikey.create", target_type="apikey", target=name, after=after
    )
    return key, plaintext


def revoke_api_key(session: Session, name: str, *, actor: str) -> ApiKey:
    """Stop a key from authenticating, for good."""
    key = get_api_key(session, name)
    if key.is_revoked:
        raise Conflict(f"API key {name} is already revoked")
    key.revoked_at = utcnow()
    session.info[PRINCIPALS_CHANGED] = True
    audit.record(
        session,
        actor=actor,
        action="apikey.revoke",
        target_type="apikey",
        target=name,
        before={"revoked": False},
        after={"revoked": True},
    )
    return key


_KEYS, _USERS = cast(Table, ApiKey.__table__), cast(Table, User.__table__)
_keys, _users = _KEYS.c, _USERS.c
# Built once: every API request runs it.
_KEY_AND_PERSON = (
    select(
        _keys.id,
        _keys.name,
        _keys.key_hash,
        _keys.scopes,
        _keys.revoked_at,
        _keys.last_used_at,
        _keys.is_test,
        _users.id,
        _users.email,
        _users.roles,
        _users.is_active,
    )
    .select_from(_KEYS.outerjoin(_USERS, _users.id == _keys.user_id))
    .where(_keys.prefix == bindparam("prefix"))
)


_TOUCH = (
    update(_KEYS).where(_keys.name == bindparam("key_name")).values(last_used_at=bindparam("now"))
)


def authenticate_key(session: Session, presented: str) -> Principal:
    """The principal a presented key stands for; AuthenticationFailed for any bad key."""
    principal, stale = authenticate(session, presented)
    if stale:
        touch_key(session, principal)
    return principal


def touch_key(session: Session, principal: Principal) -> None:
    """Record that the principal's key was used just now."""
    session.execute(_TOUCH, {"key_name": principal.key_name, "now": utcnow()})


def authenticate(session: Session, presented: str) -> tuple[Principal, bool]:
    """The principal a presented key stands for, and whether its last-used time is stale.

    AuthenticationFailed for any bad key. One statement reads the key and its person, nothing
    is written: the caller records the use (`touch_key`) when it is stale, at most once a
    minute (`LAST_USED_RESOLUTION`), so most API calls only read here.
    """
    principal, last_used_at = read_key(session, presented)
    stale = last_used_at is None or utcnow() - last_used_at >= LAST_USED_RESOLUTION
    return principal, stale


def read_key(session: Session, presented: str) -> tuple[Principal, datetime | None]:
    """The principal a presented key stands for, and when the key was last used."""
    match = KEY_PATTERN.fullmatch(presented.strip())
    if match is None:
        raise AuthenticationFailed(BAD_KEY)
    session.flush()  # a plain SQL read does not autoflush; this is free when nothing changed
    row = session.execute(_KEY_AND_PERSON, {"prefix": match[1]}).first()
    digest = _digest(presented.strip())
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        raise AuthenticationFailed(BAD_KEY)
    _, name, _, scopes, _, last_used_at, is_test, user_id, email, roles, is_active = row
    if user_id is not None and not is_active:
        raise AuthenticationFailed(BAD_KEY)
    principal = Principal(
        email=email if user_id is not None else f"apikey:{name}",
        user_id=user_id,
        roles=frozenset(roles) if user_id is not None else frozenset(),
        scopes=frozenset(scopes),
        key_name=name,
        is_test=is_test,
    )
    return principal, last_used_at
