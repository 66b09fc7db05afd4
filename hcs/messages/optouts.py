"""Opt-outs recipients make outside the API: STOP and START texts, unsubscribe links, and
provider reports (SendGrid unsubscribes, spam complaints and hard bounces, Twilio's 21610).

A hard bounce, a spam complaint and a carrier's opt-out (Twilio error 21610, in a status
callback or in the answer to a send) suppress the recipient on that channel for every category,
transactional ones too: nothing sent there would arrive, or it would be sent against a
complaint. Consent's sources say which (`consent.CHANNEL_WIDE`).

An opt-out keeps an earlier one as it was (its source too), so that undoing one source never
undoes another. A START lifts what a STOP did and nothing more: it removes the opt-outs that a
STOP keyword recorded on that channel, so service messages flow again; it is not a marketing
opt-in, and marketing waits for an opt-in recorded through the preferences API (also from
someone who had opted in before they sent STOP). Opt-outs from the API, unsubscribe links and
complaints are not lifted by a START.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.core import DeliveryEvent, EventKind
from channels.email import UnsubscribeClaim
from channels.errors import InvalidRecipient
from channels.sms import normalise_phone
from hcs.audit import AuditEntry, record
from hcs.messages.consent import (
    BOUNCE_SOURCE,
    CARRIER_SOURCE,
    COMPLAINT_SOURCE,
    OPTIONAL,
    recipient_digest,
    set_preference,
)
from hcs.messages.models import Consent, Message
from hcs.messages.recipients import lookup_key
from templates_store.errors import ValidationFailed
from templates_store.models import CATEGORIES

KEYWORD_ACTION = "consent.keyword"
STOP_SOURCE = "STOP keyword"
LINK_SOURCE = "one-click unsubscribe"
PAGE_SOURCE = "unsubscribe page"
# The Twilio error that says the recipient unsubscribed at the carrier.
CARRIER_OPT_OUT = "21610"
LINK_ACTOR = "recipient:unsubscribe-link"


def _status(session: Session, key: str, channel: str, category: str) -> str | None:
    return session.scalar(
        select(Consent.status).where(
            Consent.recipient_key == key, Consent.channel == channel, Consent.category == category
        )
    )


def opt_out(
    session: Session,
    key: str,
    channel: str,
    categories: Iterable[str],
    *,
    source: str,
    actor: str,
) -> list[str]:
    """Opt out of each category not opted out already; the categories that changed."""
    changed = []
    for category in categories:
        if _status(session, key, channel, category) != "opted_out":
            set_preference(session, key, channel, category, "opted_out", source=source, actor=actor)
            changed.append(category)
    return changed


def lift_opt_outs(session: Session, key: str, channel: str, *, source: str, actor: str) -> int:
    """Remove the opt-outs that `source` recorded on `channel` (audited); how many."""
    rows = session.scalars(
        select(Consent).where(
            Consent.recipient_key == key,
            Consent.channel == channel,
            Consent.status == "opted_out",
            Consent.source == source,
        )
    ).all()
    for row in rows:
        record(
            session,
            actor=actor,
            action="consent.lifted",
            target_type="recipient",
            target=f"{recipient_digest(key)} {channel}:{row.category}",
            before={"status": row.status},
            after={"status": None},
            detail={"source": source},
        )
        session.delete(row)
    session.flush()
    return len(rows)


def keyword_channels(event: DeliveryEvent) -> tuple[str, ...]:
    """A keyword texted to us stops SMS; one that came by WhatsApp stops chat as well."""
    via_whatsapp = event.data.get("to", "").lower().startswith("whatsapp:")
    return ("sms", "chat") if via_whatsapp else ("sms",)


def _handled(session: Session, target: str) -> bool:
    query = select(AuditEntry.id).where(
        AuditEntry.action == KEYWORD_ACTION, AuditEntry.target == target
    )
    return session.scalars(query.limit(1)).first() is not None


def record_keyword(session: Session, event: DeliveryEvent, *, actor: str) -> tuple[str, ...]:
    """An inbound STOP or START (see the module's note); the channels it changed.

    Each inbound message counts once: Twilio signs no timestamp, so a replayed START must not
    lift a STOP sent after it. The audit log, which records every keyword, is the memory.
    """
    if event.kind not in (EventKind.OPTED_OUT, EventKind.OPTED_IN) or not event.recipient:
        return ()
    try:
        key = normalise_phone(event.recipient)
    except InvalidRecipient:  # a short code or a sender name: no consent of ours to change
        return ()
    target = f"{event.provider}:{event.provider_message_id or ''}"
    if event.provider_message_id and _handled(session, target):
        return ()
    channels = keyword_channels(event)
    record(
        session,
        actor=actor,
        action=KEYWORD_ACTION,
        target_type="inbound_message",
        target=target,
        detail={"keyword": event.kind.value, "channels": list(channels)},
    )
    for channel in channels:
        if event.kind is EventKind.OPTED_OUT:
            opt_out(session, key, channel, OPTIONAL, source=STOP_SOURCE, actor=actor)
        else:  # START lifts the carrier's block too: the carrier lifts it on the same word
            lift_opt_outs(session, key, channel, source=STOP_SOURCE, actor=actor)
            lift_opt_outs(session, key, channel, source=CARRIER_SOURCE, actor=actor)
    return channels


def suppress(session: Session, key: str, channel: str, *, source: str, actor: str) -> list[str]:
    """Suppress a recipient on `channel` for every category (a channel-wide source)."""
    return opt_out(session, key, channel, CATEGORIES, source=source, actor=actor)


def channel_suppression(event: DeliveryEvent) -> str | None:
    """The channel-wide source a provider's report amounts to, or None."""
    if event.kind is EventKind.COMPLAINED:
        return COMPLAINT_SOURCE
    hard = event.data.get("event") == "bounce" and event.data.get("type") != "blocked"
    if event.kind is EventKind.BOUNCED and event.provider == "sendgrid" and hard:
        return BOUNCE_SOURCE
    if event.data.get("error_code") == CARRIER_OPT_OUT:
        return CARRIER_SOURCE
    return None


def categories_left(claim: UnsubscribeClaim) -> tuple[str, ...]:
    """What an unsubscribe link leaves: its mail's category, or every optional one when that
    mail was transactional or sensitive (which cannot be left)."""
    return (claim.scope,) if claim.scope in OPTIONAL else OPTIONAL


def unsubscribe(session: Session, claim: UnsubscribeClaim, *, source: str) -> tuple[str, ...]:
    """Opt a verified link's recipient out of `categories_left(claim)` on email."""
    categories = categories_left(claim)
    opt_out(session, claim.recipient, "email", categories, source=source, actor=LINK_ACTOR)
    return categories


def _report_key(event: DeliveryEvent, message: Message | None) -> str | None:
    if message is not None:
        return message.recipient_key
    try:
        return lookup_key(event.recipient) if event.recipient else None
    except ValidationFailed:
        return None


def apply_opt_event(
    session: Session, event: DeliveryEvent, message: Message | None, *, provider: str
) -> None:
    """Consent from a provider's report: an unsubscribe opts out, a complaint, a hard bounce or a
    carrier's opt-out suppresses the channel, a resubscribe lifts what that provider's
    unsubscribe did. Other reports change nothing."""
    suppressing = channel_suppression(event)
    if suppressing is None and event.kind not in (EventKind.OPTED_OUT, EventKind.OPTED_IN):
        return
    key = _report_key(event, message)
    channel = message.channel if message is not None else _channel_of(event)
    if key is None or (message is None and channel == "email" and "@" not in key):
        return
    source, actor = f"{provider} unsubscribe", f"webhook:{provider}"
    if suppressing is not None:
        suppress(session, key, channel, source=suppressing, actor=actor)
        return
    if event.kind is EventKind.OPTED_IN:
        lift_opt_outs(session, key, channel, source=source, actor=actor)
        return
    categories: tuple[str, ...] = OPTIONAL
    if event.data.get("event") == "group_unsubscribe" and message and message.category in OPTIONAL:
        categories = (message.category,)
    opt_out(session, key, channel, categories, source=source, actor=actor)


def _channel_of(event: DeliveryEvent) -> str:
    """The channel of a report about no message of ours: Twilio's are SMS, the rest email."""
    return "sms" if event.provider == "twilio" else "email"
