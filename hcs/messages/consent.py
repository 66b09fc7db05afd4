"""Consent per recipient, channel and category: marketing needs an opt-in, opt-outs suppress."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.infrastructure.lists import by_array, one_of
from hcs.messages.models import Consent
from templates_store.errors import ValidationFailed
from templates_store.models import CATEGORIES, CHANNELS

# Transactional and sensitive messages (a receipt, a password reset) go through regardless.
OPTIONAL = ("marketing", "service")
STATUSES = ("opted_in", "opted_out")
# Sources that suppress the recipient on a channel for every category, receipts included: the
# address bounced hard, they reported spam, or their carrier says they unsubscribed (21610).
BOUNCE_SOURCE = "hard bounce"
COMPLAINT_SOURCE = "spam complaint"
CARRIER_SOURCE = "carrier opt-out (Twilio 21610)"
CHANNEL_WIDE = frozenset({BOUNCE_SOURCE, COMPLAINT_SOURCE, CARRIER_SOURCE})


def recipient_digest(key: str) -> str:
    """A stable pseudonym for a recipient in logs that cannot be erased."""
    return "r:" + hashlib.sha256(key.encode()).hexdigest()[:16]


ERASED_PREFIX = "erased:"


def erased_alias(key: str) -> str:
    """The recipient key an erased recipient's kept opt-outs are filed under."""
    return ERASED_PREFIX + recipient_digest(key)


def _row(session: Session, key: str, channel: str, category: str) -> Consent | None:
    # An erased recipient's opt-outs are kept under a pseudonym: they still suppress.
    for recipient in (key, erased_alias(key)):
        row = session.scalar(
            select(Consent).where(
                Consent.recipient_key == recipient,
                Consent.channel == channel,
                Consent.category == category,
            )
        )
        if row is not None:
            return row
    return None


def set_preference(
    session: Session,
    key: str,
    channel: str,
    category: str,
    status: str,
    *,
    source: str,
    actor: str,
) -> Consent:
    """Record an opt-in or opt-out (from the API, a STOP text, a one-click unsubscribe)."""
    errors = {}
    if channel not in CHANNELS:
        errors["channel"] = [f"must be one of {', '.join(CHANNELS)}"]
    if category not in CATEGORIES:
        errors["category"] = [f"must be one of {', '.join(CATEGORIES)}"]
    if status not in STATUSES:
        errors["status"] = ["must be opted_in or opted_out"]
    if errors:
        raise ValidationFailed(errors)
    row = _row(session, key, channel, category)
    before = row.status if row else None
    if row is None:
        row = Consent(
            recipient_key=key, channel=channel, category=category, status=status, source=source
        )
        session.add(row)
    row.status, row.source = status, source
    session.flush()
    # The audit log is sealed and never erased: it names the recipient by a digest only.
    record(
        session,
        actor=actor,
        action=f"consent.{status}",
        target_type="recipient",
        target=f"{recipient_digest(key)} {channel}:{category}",
        before={"status": before},
        after={"status": status},
        detail={"source": source},
    )
    return row


def opt_out_everywhere(session: Session, key: str, channel: str, *, source: str, actor: str) -> int:
    """A STOP: every optional category on that channel is opted out."""
    for category in OPTIONAL:
        set_preference(session, key, channel, category, "opted_out", source=source, actor=actor)
    return len(OPTIONAL)


def preferences(session: Session, key: str) -> list[Consent]:
    """Everything a recipient chose, by channel and category."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.recipient_key.in_((key, erased_alias(key))))
            .order_by(Consent.channel, Consent.category)
        )
    )


def suppression_reason(session: Session, key: str, channel: str, category: str) -> str | None:
    """Why a send must not happen, or None when it may."""
    row = _row(session, key, channel, category)
    return _reason(None if row is None else (row.status, row.source), channel, category)


_CONSENTS = cast(Table, Consent.__table__).c


def _choices(keys: Any) -> Any:
    return select(_CONSENTS.recipient_key, _CONSENTS.status, _CONSENTS.source).where(
        keys, _CONSENTS.channel == bindparam("channel"), _CONSENTS.category == bindparam("category")
    )


# Built once: acceptance runs it for every send, and a Core row costs a fraction of an ORM one.
# A single send's recipient and their pseudonym are two plain parameters (an expanding IN is
# rewritten on every execution).
_CHOICES = {
    array: _choices(one_of(_CONSENTS.recipient_key, "keys", array=array)) for array in (False, True)
}
_CHOICE = _choices(_CONSENTS.recipient_key.in_([bindparam("key"), bindparam("alias")]))


def suppression_reasons(
    session: Session, keys: Collection[str], channel: str, category: str
) -> dict[str, str]:
    """`suppression_reason` for many recipients in one query: those that must not be sent to.

    An erased recipient's choices are found under their pseudonym, as `suppression_reason` does.
    """
    aliases = {key: erased_alias(key) for key in keys}
    params: dict[str, Any] = {"channel": channel, "category": category}
    if len(aliases) == 1:
        [(params["key"], params["alias"])] = aliases.items()
        statement = _CHOICE
    else:
        params["keys"] = sorted(set(keys) | set(aliases.values()))
        statement = _CHOICES[by_array(session)]
    found = {
        recipient: (status, source)
        for recipient, status, source in session.connection().execute(statement, params)
    }
    return reasons(found, keys, channel, category)


# recipient key (or its pseudonym) -> (status, source), as a lookup found them
Choices = dict[str, tuple[str, str]]


def reasons(found: Choices, keys: Collection[str], channel: str, category: str) -> dict[str, str]:
    """Of `keys`, those that must not be sent to and why, from the choices `found` for them."""
    refused = {}
    for key in keys:
        choice = found.get(key) or found.get(erased_alias(key))
        if (reason := _reason(choice, channel, category)) is not None:
            refused[key] = reason
    return refused


def _reason(choice: tuple[str, str] | None, channel: str, category: str) -> str | None:
    """Why a recipient whose choice is `(status, source)` (or none) must not be sent to."""
    status, source = choice or ("", "")
    if status == "opted_out" and source in CHANNEL_WIDE:
        return f"{channel} to this recipient is suppressed ({source})"
    if category not in OPTIONAL:
        return None
    if status == "opted_out":
        return f"the recipient opted out of {category} on {channel} ({source})"
    if category == "marketing" and status != "opted_in":
        return f"no recorded opt-in to marketing on {channel}"
    return None
