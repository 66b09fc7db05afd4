"""Delivery events on messages, and opt-outs from texts, links and provider reports."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.core import DeliveryEvent, EventKind
from channels.email.unsubscribe import UnsubscribeClaim
from channels.twilio_webhooks import parse_inbound, parse_status_callback
from hcs.archive import read_entry
from hcs.audit import AuditEntry
from hcs.dispatch import rounds as dispatch
from hcs.dispatch.archiving import archive_earlier_reports
from hcs.messages.consent import preferences, set_preference, suppression_reason
from hcs.messages.events import record_delivery_event
from hcs.messages.models import Message, MessageEvent, ParkedEvent
from hcs.messages.optouts import LINK_SOURCE, record_keyword, unsubscribe
from hcs.messages.parking import PARKED_FOR, settle_parked
from templates_store.orm import utcnow
from tests.support.archive import KEYS, make_entry
from tests.support.factories import make_draft, make_template

PHONE = "+447400123456"
SID = "SM" + "a" * 32
AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_message(session: Session, n: int = 1, **overrides: Any) -> Message:
    """A message already handed to a provider: `sent` through SendGrid, unless overridden."""
    version = session.scalars(select(Message.version_id)).first()
    if version is None:
        make_template(session)
        version = make_draft(session).id
    fields: dict[str, Any] = {
        "id": f"msg_{n:04d}",
        "template_key": "order-confirmation",
        "version_id": version,
        "version_number": 1,
        "channel": "email",
        "category": "marketing",
        "recipient_key": "ana@example.com",
        "to": {"email": "ana@example.com"},
        "data": {},
        "status": "sent",
        "provider": "sendgrid",
        "provider_message_id": f"sg-{n}",
        "requested_by": "system",
    }
    message = Message(**{**fields, **overrides})
    session.add(message)
    session.flush()
    return message


def sendgrid(kind: EventKind, n: int = 1, **fields: Any) -> DeliveryEvent:
    values: dict[str, Any] = {
        "provider_message_id": f"sg-{n}",
        "recipient": "ana@example.com",
        "occurred_at": AT,
        "reference": f"msg_{n:04d}",
        "data": {"event": kind.value, "sg_event_id": f"ev-{kind.value}-{n}"},
    }
    values.update(fields)
    return DeliveryEvent(kind=kind, provider="sendgrid", **values)


def twilio(status: str, sid: str = SID, **params: str) -> DeliveryEvent:
    return parse_status_callback({"MessageSid": sid, "MessageStatus": status, **params})


def kinds(session: Session, message: Message) -> list[str]:
    query = select(MessageEvent.kind).where(MessageEvent.message_id == message.id)
    return list(session.scalars(query.order_by(MessageEvent.id)))


def test_a_delivered_report_moves_a_sent_message_and_is_recorded_once(session: Session) -> None:
    message = make_message(session)
    event = sendgrid(EventKind.DELIVERED)
    assert record_delivery_event(session, event, provider="sendgrid") is message
    assert message.status == "delivered"
    assert record_delivery_event(session, event, provider="sendgrid") is message
    [recorded] = session.scalars(select(MessageEvent).where(MessageEvent.message_id == message.id))
    assert recorded.kind == "delivered" and recorded.detail["moved"] is True
    assert recorded.detail["provider"] == "sendgrid"


def test_without_our_reference_the_providers_id_finds_the_message(session: Session) -> None:
    message = make_message(session, 7)
    event = sendgrid(EventKind.DELIVERED, 7, reference=None)
    assert record_delivery_event(session, event, provider="sendgrid") is message
    assert message.status == "delivered"
    # Another provider's id never matches.
    other = make_message(session, 8, provider="twilio", provider_message_id="sg-9")
    stray = sendgrid(EventKind.DELIVERED, 9, reference=None)
    assert record_delivery_event(session, stray, provider="sendgrid") is None
    assert other.status == "sent" and kinds(session, other) == []


@pytest.mark.parametrize("start", ["sent", "delivered"])
def test_a_bounce_fails_the_message_with_the_providers_reason(session: Session, start: str) -> None:
    message = make_message(session, status=start)
    bounce = sendgrid(EventKind.BOUNCED, reason="550 5.1.1 no such user")
    record_delivery_event(session, bounce, provider="sendgrid")
    assert (message.status, message.reason) == ("failed", "550 5.1.1 no such user")


def test_a_failure_without_a_reason_names_the_provider(session: Session) -> None:
    message = make_message(session, provider="twilio", provider_message_id=SID)
    record_delivery_event(session, twilio("failed"), provider="twilio")
    assert message.status == "failed" and message.reason == "twilio reported the message failed"
    coded = make_message(session, 2, provider="twilio", provider_message_id="SM" + "b" * 32)
    record_delivery_event(
        session,
        twilio("undelivered", coded.provider_message_id, ErrorCode="30005"),
        provider="twilio",
    )
    assert coded.status == "failed" and coded.reason == "Twilio error 30005"


def test_a_late_callback_is_recorded_but_never_moves_a_message_back(session: Session) -> None:
    message = make_message(session, provider="twilio", provider_message_id=SID)
    for status in ("delivered", "sent", "queued"):
        record_delivery_event(session, twilio(status), provider="twilio")
    assert message.status == "delivered"
    assert kinds(session, message) == ["delivered", "sent", "accepted"]
    # Nor does a delivery report bring a failed message back.
    record_delivery_event(session, twilio("undelivered"), provider="twilio")
    record_delivery_event(
        session, sendgrid(EventKind.DELIVERED, reference=message.id), provider="twilio"
    )
    assert message.status == "failed"


def test_twilio_reports_are_idempotent_on_sid_and_status(session: Session) -> None:
    message = make_message(session, channel="chat", provider="twilio", provider_message_id=SID)
    for status in ("delivered", "delivered", "read", "read"):
        record_delivery_event(session, twilio(status), provider="twilio")
    assert kinds(session, message) == ["delivered", "read"]
    assert message.status == "delivered"


def test_opens_and_clicks_are_events_only(session: Session) -> None:
    message = make_message(session, status="delivered")
    record_delivery_event(session, sendgrid(EventKind.OPENED), provider="sendgrid")
    click = sendgrid(EventKind.CLICKED, reason="https://shop.example/")
    record_delivery_event(session, click, provider="sendgrid")
    assert message.status == "delivered" and kinds(session, message) == ["opened", "clicked"]


def record_sent(session: Session, message: Message, provider_message_id: str) -> int:
    """What the worker records once the provider took the message; how many parked reports
    that applied."""
    waiting = len(parked(session))
    provider = message.provider or ""
    assert dispatch.record_sent(session, 0, message.id, provider, provider_message_id)
    return waiting - len(parked(session))


def parked(session: Session) -> list[tuple[str, str, str]]:
    rows = session.scalars(select(ParkedEvent).order_by(ParkedEvent.id))
    return [(p.provider, p.provider_message_id, p.kind) for p in rows]


def test_a_report_while_the_worker_is_still_sending_waits_for_sent(session: Session) -> None:
    message = make_message(session, status="sending", provider_message_id=None)
    assert record_delivery_event(session, sendgrid(EventKind.DELIVERED), provider="sendgrid")
    # Never `delivered` before `sent`: the report waits, under SendGrid's id.
    assert message.status == "sending" and kinds(session, message) == []
    assert parked(session) == [("sendgrid", "sg-1", "delivered")]
    assert record_sent(session, message, "sg-1") == 1
    session.refresh(message)
    assert message.status == "delivered" and kinds(session, message) == ["sent", "delivered"]
    assert parked(session) == []


def test_a_twilio_callback_before_sent_is_applied_when_sent_records_the_sid(
    session: Session,
) -> None:
    message = make_message(session, status="sending", provider="twilio", provider_message_id=None)
    for status in ("delivered", "sent", "delivered"):  # Twilio's callbacks, out of order
        assert record_delivery_event(session, twilio(status), provider="twilio") is None
    received = session.scalars(select(ParkedEvent.received_at)).first()
    assert record_sent(session, message, SID) == 3
    session.refresh(message)
    assert message.status == "delivered"
    [ours, delivered, sent] = session.scalars(
        select(MessageEvent).where(MessageEvent.message_id == message.id).order_by(MessageEvent.id)
    )
    assert (ours.kind, ours.detail) == ("sent", {"provider": "twilio", "id": SID})
    assert (delivered.kind, delivered.detail["moved"], sent.kind) == ("delivered", True, "sent")
    assert delivered.at == received  # Twilio sends no time: the callback's arrival stands in


def test_a_parked_report_waits_for_its_own_providers_id(session: Session) -> None:
    record_delivery_event(session, twilio("delivered"), provider="twilio")
    other = make_message(session, 2, status="sending", provider_message_id=None)
    assert record_sent(session, other, SID) == 0  # the same id, but from SendGrid
    assert parked(session) == [("twilio", SID, "delivered")]


def test_a_parked_failure_fails_the_message_once_it_is_sent(session: Session) -> None:
    message = make_message(session, status="sending", provider="twilio", provider_message_id=None)
    record_delivery_event(session, twilio("undelivered", ErrorCode="30003"), provider="twilio")
    record_delivery_event(session, twilio("delivered"), provider="twilio")
    record_sent(session, message, SID)
    session.refresh(message)
    assert (message.status, message.reason) == ("failed", "Twilio error 30003")


def test_a_report_parked_while_sent_was_committed_is_settled_by_housekeeping(
    session: Session,
) -> None:
    message = make_message(session, status="sending", provider="twilio", provider_message_id=None)
    record_delivery_event(session, twilio("delivered"), provider="twilio")
    # The worker's `sent` did not see the report (committed at the same moment).
    sent = update(Message).where(Message.id == message.id)
    session.execute(sent.values(status="sent", provider_message_id=SID))
    entry = make_entry(session, message_id=message.id)
    assert settle_parked(session, keys=KEYS) == 1
    session.refresh(message)
    assert message.status == "delivered" and parked(session) == []
    [archived] = read_entry(session, entry.id, actor="aud@example.com", keys=KEYS).events
    assert (archived["kind"], archived["provider"]) == ("delivered", "twilio")


def test_reports_no_sent_claims_within_the_bound_are_dropped(session: Session) -> None:
    stray = sendgrid(EventKind.DELIVERED, 42)
    assert record_delivery_event(session, stray, provider="sendgrid") is None
    assert parked(session) == [("sendgrid", "sg-42", "delivered")]
    assert settle_parked(session) == 0 and len(parked(session)) == 1  # not yet
    long_ago = utcnow() - PARKED_FOR - timedelta(minutes=1)
    session.execute(update(ParkedEvent).values(received_at=long_ago))
    message = make_message(session, 42, status="sending", provider_message_id=None)
    assert record_sent(session, message, "sg-42") == 0
    assert settle_parked(session) == 0 and parked(session) == []
    assert kinds(session, message) == ["sent"]


def test_reports_recorded_before_the_archive_entry_are_copied_into_it(session: Session) -> None:
    message = make_message(session, status="sending", provider="twilio", provider_message_id=None)
    record_delivery_event(session, twilio("delivered"), provider="twilio")
    record_sent(session, message, SID)
    record_delivery_event(session, twilio("read"), provider="twilio")  # before the entry, too
    entry = make_entry(session, message_id=message.id)
    archive_earlier_reports(session, [message.id], KEYS)
    events = read_entry(session, entry.id, actor="aud@example.com", keys=KEYS).events
    assert [(e["kind"], e["detail"]["provider_status"]) for e in events] == [
        ("delivered", "delivered"),
        ("read", "read"),
    ]
    # A report after the entry is appended once, by itself.
    record_delivery_event(session, twilio("failed"), provider="twilio", keys=KEYS)
    events = read_entry(session, entry.id, actor="aud@example.com", keys=KEYS).events
    assert [e["kind"] for e in events] == ["delivered", "read", "failed"]


def test_a_report_about_no_message_of_ours_changes_nothing(session: Session) -> None:
    event = sendgrid(EventKind.DELIVERED, 42)
    assert record_delivery_event(session, event, provider="sendgrid") is None
    assert session.scalars(select(MessageEvent)).all() == []


def test_a_sendgrid_unsubscribe_opts_out_and_a_resubscribe_lifts_only_that(
    session: Session,
) -> None:
    make_message(session)
    key = "ana@example.com"
    set_preference(session, key, "email", "marketing", "opted_in", source="api", actor="t")
    record_delivery_event(session, sendgrid(EventKind.OPTED_OUT), provider="sendgrid")
    assert suppression_reason(session, key, "email", "marketing") is not None
    assert suppression_reason(session, key, "email", "service") is not None
    resubscribe = sendgrid(EventKind.OPTED_IN, 2, reference=None, provider_message_id=None)
    record_delivery_event(session, resubscribe, provider="sendgrid")
    assert suppression_reason(session, key, "email", "service") is None
    assert "no recorded opt-in" in (suppression_reason(session, key, "email", "marketing") or "")


def test_a_group_unsubscribe_leaves_the_messages_category_only(session: Session) -> None:
    make_message(session, category="service")
    event = sendgrid(EventKind.OPTED_OUT, data={"event": "group_unsubscribe"})
    record_delivery_event(session, event, provider="sendgrid")
    assert [(c.category, c.status) for c in preferences(session, "ana@example.com")] == [
        ("service", "opted_out")
    ]


def test_a_spam_complaint_opts_out_and_is_not_lifted_by_a_resubscribe(session: Session) -> None:
    key = "bo@example.com"
    complaint = sendgrid(
        EventKind.COMPLAINED,
        3,
        recipient="Bo@Example.com",
        reference=None,
        provider_message_id=None,
    )
    record_delivery_event(session, complaint, provider="sendgrid")
    resubscribe = sendgrid(EventKind.OPTED_IN, 3, recipient=key, reference=None)
    record_delivery_event(session, resubscribe, provider="sendgrid")
    assert "spam complaint" in (suppression_reason(session, key, "email", "service") or "")


INBOUND_SIDS = itertools.count()


def inbound(
    body: str, sender: str = PHONE, to: str = "+447400000001", sid: str = ""
) -> DeliveryEvent:
    sid = sid or f"SM{next(INBOUND_SIDS):032d}"
    return parse_inbound({"MessageSid": sid, "From": sender, "To": to, "Body": body})


def test_stop_suppresses_optional_sms_and_transactional_still_goes(session: Session) -> None:
    assert record_keyword(session, inbound(" stop "), actor="webhook:twilio") == ("sms",)
    for category in ("marketing", "service"):
        reason = suppression_reason(session, PHONE, "sms", category)
        assert reason and "STOP keyword" in reason
    assert suppression_reason(session, PHONE, "sms", "transactional") is None
    assert suppression_reason(session, PHONE, "chat", "service") is None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "webhook:twilio"))
    assert sorted(actions) == ["consent.keyword", "consent.opted_out", "consent.opted_out"]


def test_a_stop_by_whatsapp_stops_chat_and_sms(session: Session) -> None:
    event = inbound("STOP", sender=f"whatsapp:{PHONE}", to="whatsapp:+447400000001")
    assert record_keyword(session, event, actor="webhook:twilio") == ("sms", "chat")
    assert suppression_reason(session, PHONE, "chat", "service") is not None
    record_keyword(session, inbound("START", f"whatsapp:{PHONE}", "whatsapp:+1"), actor="t")
    assert suppression_reason(session, PHONE, "chat", "service") is None


def test_start_lifts_the_stop_but_is_no_marketing_opt_in(session: Session) -> None:
    set_preference(session, PHONE, "sms", "marketing", "opted_in", source="api", actor="t")
    record_keyword(session, inbound("STOP"), actor="webhook:twilio")
    record_keyword(session, inbound("Start"), actor="webhook:twilio")
    assert suppression_reason(session, PHONE, "sms", "service") is None
    marketing = suppression_reason(session, PHONE, "sms", "marketing")
    assert marketing == "no recorded opt-in to marketing on sms"
    lifted = session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.lifted"))
    assert sorted(e.target.rsplit(":", 1)[1] for e in lifted) == ["marketing", "service"]


def test_start_does_not_lift_an_opt_out_made_elsewhere(session: Session) -> None:
    set_preference(session, PHONE, "sms", "service", "opted_out", source="api", actor="t")
    record_keyword(session, inbound("STOP"), actor="webhook:twilio")
    record_keyword(session, inbound("START"), actor="webhook:twilio")
    assert "(api)" in (suppression_reason(session, PHONE, "sms", "service") or "")


def test_a_replayed_start_does_not_lift_a_later_stop(session: Session) -> None:
    record_keyword(session, inbound("STOP", sid="SM" + "1" * 32), actor="webhook:twilio")
    start = inbound("START", sid="SM" + "2" * 32)
    assert record_keyword(session, start, actor="webhook:twilio") == ("sms",)
    record_keyword(session, inbound("STOP", sid="SM" + "3" * 32), actor="webhook:twilio")
    assert record_keyword(session, start, actor="webhook:twilio") == ()
    assert suppression_reason(session, PHONE, "sms", "service") is not None


def test_other_texts_and_odd_senders_change_no_consent(session: Session) -> None:
    assert record_keyword(session, inbound("Where is my order?"), actor="t") == ()
    assert record_keyword(session, inbound("STOP", sender="ACME"), actor="t") == ()
    assert session.scalars(select(AuditEntry)).all() == []


def test_an_unsubscribe_link_leaves_its_category_or_every_optional_one(session: Session) -> None:
    later = AT + timedelta(days=1)
    unsubscribe(
        session, UnsubscribeClaim("ana@example.com", "marketing", later), source=LINK_SOURCE
    )
    assert [c.category for c in preferences(session, "ana@example.com")] == ["marketing"]
    receipt = UnsubscribeClaim("bo@example.com", "transactional", later)
    assert unsubscribe(session, receipt, source=LINK_SOURCE) == ("marketing", "service")
    assert suppression_reason(session, "bo@example.com", "email", "transactional") is None


def test_an_event_is_appended_to_the_messages_archive_entry(session: Session) -> None:
    message = make_message(session)
    entry = make_entry(session, message_id=message.id)
    bounce = sendgrid(EventKind.BOUNCED, reason="550 no such user")
    record_delivery_event(session, bounce, provider="sendgrid", keys=KEYS)
    [archived] = read_entry(session, entry.id, actor="aud@example.com", keys=KEYS).events
    assert (archived["kind"], archived["provider"]) == ("bounced", "sendgrid")
    assert archived["detail"]["reason"] == "550 no such user"
