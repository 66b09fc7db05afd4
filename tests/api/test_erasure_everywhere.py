"""Erasing a data subject reaches every copy of their personal data, not only the archive's.

The attack of issue 18: after `hcs archive erase`, the address and the data stayed in plain text
in `messages`, their events, the provider reports, the sign-off queue and consent. Here the
subject is sent to by email and by SMS (an AI text signed off with an edit), bounced, opted out
and reported on; then every table, every column, is dumped and searched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from channels.core import DeliveryEvent, EventKind
from hcs import archive
from hcs.channels.addresses import lookup_key
from hcs.dispatch import rounds
from hcs.dispatch.erasure import erase_subject, release_hold
from hcs.infrastructure.db import transaction
from hcs.messages.events import record_delivery_event
from hcs.messages.models import Message, MessageEvent, ParkedEvent
from hcs.worker.runtime import build_worker
from templates_store.orm import utcnow
from tests.support.flows import ai_template, published, reviewed, send_ai
from tests.support.web import Person
from tests.support.world import World

EMAIL = "Dorothea.Quinn@Example.com"
PHONE = "+447400123456"  # send_ai's recipient
# Everything that would identify her, as it could sit in a column (matched case-insensitively).
TRACES = ("dorothea.quinn@example.com", "Dorothea", "Quinn", PHONE, PHONE[1:], "ana.private@")
OTHER = "eli.moss@example.com"


def _send_email(world: World, to: str, name: str, key: str) -> str:
    body = {
        "template": "order-confirmation",
        "channel": "email",
        "to": {"email": to, "name": name},
        "data": {"order_id": "A-7", "first_name": name.split()[0]},
        "metadata": {"crm_name": name},
    }
    answer = world.as_("system").post("/messages", body, headers={"Idempotency-Key": key})
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def dispatch(world: World) -> int:
    """One round of the worker as `hcs worker` builds it (it archives what it sends), and the
    AI text its lane generates meanwhile."""
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    handled = worker.run_once()
    lane = worker.ai_lane
    if lane is not None:
        deadline = time.monotonic() + 30
        while lane.in_lane() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not lane.in_lane(), "the AI lane did not finish within 30 s"
        lane.close()
    return handled


def _report(
    session: Session, keys: archive.Keyring, provider_id: str, kind: EventKind, reason: str | None
) -> None:
    event = DeliveryEvent(
        kind=kind,
        provider="outbox",
        provider_message_id=provider_id,
        recipient=EMAIL.lower(),
        occurred_at=utcnow(),
        reason=reason,
        data={"email": EMAIL.lower(), "event": kind.value, "sg_event_id": f"ev-{kind.value}"},
    )
    record_delivery_event(session, event, provider="outbox", keys=keys)


def _subject_everywhere(world: World) -> dict[str, str]:
    """Messages to her (and to someone else) with every kind of copy; their ids."""
    published(world)
    ai_template(world)
    ids = {"email": _send_email(world, EMAIL, "Dorothea Quinn", f"welcome-{EMAIL}")}
    ids["other"] = _send_email(world, OTHER, "Eli Moss", "k-em")
    ids["sms"] = send_ai(world, first_name="Dorothea")
    dispatch(world)
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    edit = {"slots": {"opener": "Hi Dorothea, lovely to see you again."}}
    assert sam.post(f"/signoffs/{item_id}/approve", edit).status_code == 200
    dispatch(world)
    preference = {"channel": "email", "category": "marketing", "status": "opted_out"}
    assert world.as_("system").post(f"/recipients/{EMAIL}/preferences", preference).status_code
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        sent = session.get_one(Message, ids["email"])
        assert sent.status == "sent" and sent.provider_message_id
        _report(session, keys, sent.provider_message_id, EventKind.OPENED, None)
        bounce = f"550 5.1.1 <{EMAIL.lower()}>: user unknown (Dorothea Quinn)"
        _report(session, keys, sent.provider_message_id, EventKind.BOUNCED, bounce)
        session.add(
            ParkedEvent(
                provider="outbox",
                provider_message_id=sent.provider_message_id,
                kind="clicked",
                reason=None,
                data={"email": EMAIL.lower(), "url": "https://shop.example/dorothea"},
            )
        )
    return ids


def _dump(session: Session) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) for every stored value of every table."""
    connection = session.connection()
    for table in inspect(connection).get_table_names():
        result = connection.execute(text(f'SELECT * FROM "{table}"'))
        for row in result.mappings():
            for column, value in row.items():
                if isinstance(value, (bytes, bytearray, memoryview)):
                    yield table, column, bytes(value).decode("latin-1")
                elif value is not None:
                    yield table, column, str(value)


def _found(world: World) -> set[tuple[str, str, str]]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return {
            (table, column, trace)
            for table, column, value in _dump(session)
            for trace in TRACES
            if trace.lower() in value.lower()
        }


def _erase_both(world: World) -> list[Any]:
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return [
            erase_subject(session, recipient, actor="dpo@example.com", keys=keys).state
            for recipient in (EMAIL, PHONE)
        ]


def test_the_attack_finds_the_subject_in_plain_text_before_erasure(world: World) -> None:
    _subject_everywhere(world)
    tables = {table for table, _, _ in _found(world)}
    assert {"messages", "parked_delivery_events", "signoffs"} <= tables
    # A provider's reason is stored without the recipient (hcs.messages.redaction): the bounce
    # that quotes the address and the name leaves no trace of them in the events.
    assert "message_events" not in tables
    assert {"consents", "idempotency_keys"} <= tables


def test_after_erasure_no_table_holds_the_subjects_address_phone_or_name(world: World) -> None:
    ids = _subject_everywhere(world)
    assert _erase_both(world) == ["done", "done"]
    assert _found(world) == set()
    admin = world.as_("root@example.com")
    for key in ("email", "sms"):
        shown = admin.get(f"/messages/{ids[key]}").get_json()
        assert shown["to"] == "[erased]" and shown["metadata"] == "[erased]"
        assert shown.get("data", "[erased]") == "[erased]"  # the API never shows data
        assert shown["id"] == ids[key] and shown["template"] and shown["version"] == 1
    email = admin.get(f"/messages/{ids['email']}").get_json()
    assert email["status"] == "failed" and email["reason"] == "[erased]"
    assert {e["kind"] for e in email["events"]} >= {"accepted", "sent", "opened", "bounced"}
    assert all(e["detail"].get("erased") for e in email["events"])
    other = admin.get(f"/messages/{ids['other']}").get_json()
    assert other["to"] == {"email": OTHER, "name": "Eli Moss"}
    assert other["metadata"] == {"crm_name": "Eli Moss"}
    again = _send_email(world, EMAIL, "Dorothea Quinn", f"welcome-{EMAIL}")
    assert again == ids["email"] and _found(world) == set()  # the key still replays
    log = admin.get("/messages").get_json()
    assert all(m["to"] == "[erased]" for m in log["items"] if m["id"] != ids["other"])
    page = Person(world.app, "root@example.com").get("/messages").text
    assert "[erased]" in page and "Eli Moss" in page
    assert not any(trace.lower() in page.lower() for trace in TRACES)


def test_an_opt_out_survives_the_erasure_of_who_opted_out(world: World) -> None:
    _subject_everywhere(world)
    _erase_both(world)
    body = {
        "template": "order-confirmation",
        "channel": "email",
        "to": {"email": EMAIL},
        "data": {"order_id": "A-8", "first_name": "D"},
    }
    preferences = world.as_("system").get(f"/recipients/{EMAIL}/preferences").get_json()
    assert [(p["category"], p["status"]) for p in preferences] == [("marketing", "opted_out")]
    assert world.as_("system").post("/messages", body).status_code == 202


def test_erasure_under_legal_hold_is_deferred_everywhere_then_done_on_release(
    world: World,
) -> None:
    ids = _subject_everywhere(world)
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    sessions = world.app.extensions["hcs"].sessions
    with transaction(sessions) as session:
        archive.place_hold(session, recipient_key=EMAIL, reason="claim 9", actor="legal", keys=keys)
    assert _erase_both(world) == ["deferred", "done"]
    email = world.as_("root@example.com").get(f"/messages/{ids['email']}").get_json()
    assert email["to"]["email"] == EMAIL  # kept while the hold lasts
    with transaction(sessions) as session:
        stored = session.scalars(select(archive.ErasureRequest.state)).all()
        assert sorted(stored) == ["deferred", "done"]
        assert release_hold(session, recipient_key=EMAIL, actor="legal", keys=keys) == 1
    assert _found(world) == set()
    email = world.as_("root@example.com").get(f"/messages/{ids['email']}").get_json()
    assert email["to"] == "[erased]"


def test_a_message_not_sent_yet_is_cancelled_by_the_erasure(world: World) -> None:
    published(world)
    body = {
        "template": "order-confirmation",
        "channel": "email",
        "to": {"email": EMAIL, "name": "Dorothea Quinn"},
        "data": {"order_id": "A-9", "first_name": "Dorothea"},
        "send_at": (utcnow() + timedelta(days=1)).isoformat(),
    }
    answer = world.as_("system").post("/messages", body)
    assert answer.status_code == 202, answer.get_json()
    _erase_both(world)
    shown = world.as_("root@example.com").get(f"/messages/{answer.get_json()['id']}").get_json()
    assert shown["status"] == "cancelled" and shown["to"] == "[erased]"
    assert dispatch(world) == 0
    assert _found(world) == set()


def test_a_letter_recipient_is_erased_by_their_postal_address(world: World) -> None:
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    template = {"key": "welcome-letter", "name": "Welcome", "category": "service"}
    assert ana.post("/templates", {**template, "channels": ["letter"]}).status_code == 201
    parts = {"letter": {"en": {"html": "<p>Dear {{ first_name }}, welcome.</p>", "css": ""}}}
    version = {
        "parts": parts,
        "variables": [{"name": "first_name", "type": "string", "required": True}],
        "sample_data": {"first_name": "Ana"},
    }
    draft = ana.post("/templates/welcome-letter/versions", version)
    assert draft.status_code == 201, draft.get_json()
    reviewed(world, "welcome-letter", 1, "lee@example.com")
    assert lee.post("/templates/welcome-letter/versions/1/publish").status_code == 200
    lines = ["Dorothea Quinn", "1 High Street", "Quinnsworth QW1 1AA"]
    body = {
        "template": "welcome-letter",
        "channel": "letter",
        "to": {"address": lines},
        "data": {"first_name": "Dorothea"},
    }
    answer = world.as_("system").post("/messages", body)
    assert answer.status_code == 202, answer.get_json()
    dispatch(world)
    assert ("messages", "to", "Quinn") in _found(world)
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    typed = "dorothea quinn\n1 High Street \nQuinnsworth QW1 1AA"  # as a DPO types it
    with transaction(world.app.extensions["hcs"].sessions) as session:
        assert erase_subject(session, typed, actor="dpo", keys=keys).entries == 1
    assert _found(world) == set()
    shown = world.as_("root@example.com").get(f"/messages/{answer.get_json()['id']}").get_json()
    assert shown["to"] == "[erased]" and shown["status"] == "sent"


def test_the_keys_a_person_types_find_what_messages_store() -> None:
    assert lookup_key(" Ana@Example.COM ") == "ana@example.com"
    assert lookup_key("whatsapp:+44 7400 123456") == lookup_key("+447400123456")
    assert lookup_key("+447400123456") == "+447400123456"
    assert lookup_key("conv-42") == "conv-42"


def test_a_recipient_erased_while_their_message_is_sent_is_not_archived_under_a_live_key(
    world: World, monkeypatch: Any
) -> None:
    """The erasure commits after the provider took the mail and before the round archives it:
    the archive must not keep the mail (her address is in it) under a key made anew."""
    published(world)
    message_id = _send_email(world, EMAIL, "Dorothea Quinn", "k-mid-round")
    after_send = rounds._after_send

    def erased_first(*args: Any) -> None:
        _erase_both(world)
        after_send(*args)

    monkeypatch.setattr(rounds, "_after_send", erased_first)
    assert dispatch(world) == 1
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = select(archive.ArchiveEntry).where(archive.ArchiveEntry.message_id == message_id)
        assert session.scalars(entry).all() == []
        kinds = select(MessageEvent.kind).where(MessageEvent.message_id == message_id)
        assert "archive_skipped" in session.scalars(kinds).all()
        assert session.get_one(Message, message_id).status == "sent"
