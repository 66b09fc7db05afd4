"""A person's own phone, proven by a one-time code before any test goes to it.

The code (6 digits) is sent through the configured SMS provider and kept only as an HMAC under
the secret key, bound to the person and the number. It expires after ten minutes and allows five
tries; codes are resent at most once a minute and five times an hour. Every step is audited,
never with the code. A refused try is recorded (`CodeRefused`): the caller commits it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.core import SendResult
from hcs import audit
from hcs.errors import CodeRefused, TooSoon, ValidationFailed
from hcs.identity.models import PhoneCode, User
from hcs.identity.users import e164, get_user, set_phone
from templates_store.orm import utcnow

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
MAX_SENDS = 5
SEND_WINDOW = timedelta(hours=1)
CODE = re.compile(r"\d{6}")
MESSAGE = "Your HCS code is {code}. It expires in 10 minutes. Did not ask for it? Ignore this."

# Sends one text to one number: (phone, text, reference) -> the provider's answer.
CodeSender = Callable[[str, str, str], SendResult]


def is_verified(user: User) -> bool:
    """Whether the person's current phone was proven (by a code or an admin)."""
    return bool(user.phone) and user.phone_verified_at is not None


def verified_phone(session: Session, email: str) -> str:
    """The person's proven phone; ValidationFailed naming `phone` when there is none."""
    user = get_user(session, email)
    if not user.phone:
        raise ValidationFailed({"phone": ["add your phone number on your account page first"]})
    if not is_verified(user):
        message = "verify your phone number on your account page first (a code is sent to it)"
        raise ValidationFailed({"phone": [message]})
    return user.phone


def _digest(secret: bytes, user: User, phone: str, code: str) -> str:
    return hmac.new(secret, f"{user.id}\0{phone}\0{code}".encode(), hashlib.sha256).hexdigest()


def _pending(session: Session, user: User) -> PhoneCode | None:
    return session.scalar(select(PhoneCode).where(PhoneCode.user_id == user.id))


def _check_rate(row: PhoneCode, now: datetime) -> None:
    """Refuse a send sooner than a minute after the last, or a sixth within the hour."""
    wait = row.last_sent_at + RESEND_AFTER - now
    if wait > timedelta(0):
        raise TooSoon(f"a code was just sent: ask again in {int(wait.total_seconds()) + 1} s")
    if now - row.window_started_at >= SEND_WINDOW:
        row.sends, row.window_started_at = 0, now
    if row.sends >= MAX_SENDS:
        again = (row.window_started_at + SEND_WINDOW).strftime("%H:%M UTC")
        raise TooSoon(f"{MAX_SENDS} codes were sent within the hour: ask again after {again}")


def _fresh_row(session: Session, user: User, now: datetime) -> PhoneCode:
    row = _pending(session, user)
    if row is None:
        row = PhoneCode(user_id=user.id, phone="", code_hash="", expires_at=now, attempts=0)
        row.sends, row.window_started_at, row.last_sent_at = 0, now, now - RESEND_AFTER
        session.add(row)
    return row


def request_code(
    session: Session,
    email: str,
    phone: str,
    *,
    secret: bytes,
    send: CodeSender,
    actor: str,
    now: datetime | None = None,
) -> PhoneCode:
    """Set the person's phone (a new number is unverified) and send a code to it."""
    now = now or utcnow()
    user = get_user(session, email)
    number = e164(phone)
    if number != user.phone:
        set_phone(session, user.email, number, actor=actor)
    elif is_verified(user):
        raise ValidationFailed({"phone": ["this number is already verified"]})
    row = _fresh_row(session, user, now)
    _check_rate(row, now)
    code = f"{secrets.randbelow(10**6):06d}"
    row.phone, row.code_hash, row.attempts = number, _digest(secret, user, number, code), 0
    row.expires_at, row.last_sent_at, row.sends = now + CODE_TTL, now, row.sends + 1
    session.flush()
    result = send(number, MESSAGE.format(code=code), f"verify_{secrets.token_hex(8)}")
    detail = {"phone": number, "provider": result.provider, "provider_id": result.message_id}
    detail["expires_at"] = row.expires_at.isoformat()
    _audit(session, actor, user, "user.phone_code_sent", detail)
    return row


def confirm_code(
    session: Session,
    email: str,
    code: str,
    *,
    secret: bytes,
    actor: str,
    now: datetime | None = None,
) -> User:
    """Mark the person's phone verified when `code` is the one last sent to it."""
    now = now or utcnow()
    user = get_user(session, email)
    typed = re.sub(r"\s", "", code)
    if not CODE.fullmatch(typed):
        raise ValidationFailed({"code": ["enter the 6 digits of the code sent to your phone"]})
    row = _pending(session, user)
    if row is None or not row.code_hash or row.phone != user.phone:
        raise ValidationFailed({"code": ["ask for a code first"]})
    row.attempts += 1
    reason = _refusal(row, user, typed, secret, now)
    if reason is not None:
        detail = {"phone": row.phone, "reason": reason[0], "attempts": row.attempts}
        _audit(session, actor, user, "user.phone_code_refused", detail)
        session.flush()
        raise CodeRefused({"code": [reason[1]]})
    row.code_hash = ""  # used: it proves nothing twice
    user.phone_verified_at = now
    _audit(session, actor, user, "user.phone_verified", {"phone": user.phone, "how": "code"})
    return user


def _refusal(
    row: PhoneCode, user: User, typed: str, secret: bytes, now: datetime
) -> tuple[str, str] | None:
    """Why the try is refused (a reason and what to tell the person), or None to accept it."""
    if row.attempts > MAX_ATTEMPTS:
        return "locked", "too many wrong codes: ask for a new code"
    if now >= row.expires_at:
        return "expired", "the code has expired: ask for a new code"
    if not hmac.compare_digest(row.code_hash, _digest(secret, user, row.phone, typed)):
        left = MAX_ATTEMPTS - row.attempts
        more = f"{left} tries left" if left else "no tries left: ask for a new code"
        return "wrong", f"that is not the code; {more}"
    return None


def vouch_for_phone(session: Session, email: str, phone: str, *, actor: str) -> User:
    """An admin's word that the person holds `phone`: set it and mark it verified."""
    user = set_phone(session, email, phone, actor=actor)
    if not user.phone:
        raise ValidationFailed({"phone": ["give the number to mark as verified"]})
    user.phone_verified_at = utcnow()
    _audit(session, actor, user, "user.phone_verified", {"phone": user.phone, "how": "admin"})
    return user


def _audit(session: Session, actor: str, user: User, action: str, detail: dict[str, Any]) -> None:
    audit.record(
        session, actor=actor, action=action, target_type="user", target=user.email, detail=detail
    )


def pending_code(session: Session, user: User) -> PhoneCode | None:
    """The code waiting to be entered for the person's current phone, if any."""
    row = _pending(session, user)
    if row is None or not row.code_hash or row.phone != user.phone or is_verified(user):
        return None
    return row
