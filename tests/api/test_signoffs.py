"""AI text waits for a person: generated in the worker, checked, signed off, then sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hcs.archive import keyring as archive_keyring
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import build_providers
from hcs.dispatch.rerendering import rerender
from hcs.errors import SignoffRequired
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from hcs.signoffs.queue import expire
from hcs.worker.runtime import build_worker
from templates_store.orm import utcnow
from tests.support.flows import SLOT, ai_template, dispatch, send_ai, sent_bodies, status
from tests.support.world import World


def test_a_message_with_ai_text_waits_for_a_person(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    assert status(world, message_id)["status"] == "awaiting_signoff"
    assert dispatch(world) == 0 and sent_bodies(world) == []
    sam = world.as_("sam@example.com")
    queue = sam.get("/signoffs").get_json()
    assert [item["message_id"] for item in queue] == [message_id]
    item = sam.get(f"/signoffs/{queue[0]['id']}").get_json()
    slot = item["slots"][0]
    assert slot["name"] == "opener" and slot["text"] and not slot["flagged"]
    assert list(slot["inputs"]) == ["first_name"]
    assert all(finding["passed"] for finding in slot["findings"])
    assert '<mark data-ai-slot="opener">' in item["rendered"]["body"]
    assert "Written with AI" in item["rendered"]["body"]


def test_no_path_sends_ai_text_without_sign_off(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        message = session.get_one(Message, message_id)
        with pytest.raises(SignoffRequired):
            finish(session, message, build_providers(services.settings))
    assert world.as_("ana@example.com").get("/signoffs").status_code == 403
    assert sent_bodies(world) == []


def test_an_edit_passes_the_guardrails_again_and_is_sent(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    refused = sam.post(
        f"/signoffs/{item_id}/approve",
        {"slots": {"opener": "Hi Ana, we will refund your whole order!"}},
    )
    assert refused.status_code == 422 and "slots.opener" in refused.get_json()["errors"]
    assert status(world, message_id)["status"] == "awaiting_signoff"
    approved = sam.post(
        f"/signoffs/{item_id}/approve", {"slots": {"opener": "Hi Ana, lovely to see you again."}}
    )
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    dispatch(world)
    assert status(world, message_id)["status"] == "sent"
    assert sent_bodies(world) == [
        "Hi Ana, lovely to see you again. Order A-1 is confirmed. "
        "(Written with AI, checked by our team.)"
    ]


def test_a_rejected_message_is_never_sent(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    assert sam.post(f"/signoffs/{item_id}/reject", {}).status_code == 422
    sam.post(f"/signoffs/{item_id}/reject", {"comment": "Too familiar for this customer."})
    dispatch(world)
    assert status(world, message_id)["status"] == "rejected" and sent_bodies(world) == []


def test_pending_messages_expire_and_are_never_sent(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        assert expire(session, now=utcnow() + timedelta(days=4)) == 1
    dispatch(world)
    answer = status(world, message_id)
    assert answer["status"] == "rejected" and answer["reason"] == "sign-off expired"
    assert sent_bodies(world) == []


def test_sensitive_templates_cannot_have_ai_slots(world: World) -> None:
    ana = world.as_("ana@example.com")
    ana.post(
        "/templates",
        {"key": "reset-code", "name": "Reset", "category": "sensitive", "channels": ["sms"]},
    )
    ana.post(
        "/templates/reset-code/versions",
        {
            "parts": {"sms": {"en": {"body": "{{ opener }} Code {{ code }}"}}},
            "variables": [
                {"name": "code", "type": "string", "required": True},
                {"name": "first_name", "type": "string", "required": False},
            ],
            "sample_data": {"code": "1"},
            "ai_slots": [SLOT],
        },
    )
    refused = ana.post("/templates/reset-code/versions/1/submit")
    assert refused.status_code == 422 and any(
        k.startswith("ai_slots") for k in refused.get_json()["errors"]
    )


def test_the_archive_records_the_ai_provenance_and_sign_off(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    sam = world.as_("sam@example.com")
    sam.post(
        f"/signoffs/{sam.get('/signoffs').get_json()[0]['id']}/approve", {"comment": "Reads well."}
    )
    services = world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()
    auditor = world.as_("aud@example.com")
    found = auditor.get(f"/archive?message_id={message_id}").get_json()
    assert len(found) == 1 and found[0]["has_ai"] is True
    entry = auditor.get(f"/archive/{found[0]['id']}").get_json()
    assert entry["ai"]["signed_off_by"] == "sam@example.com"
    disclosed = entry["ai"]["disclosure"]
    assert disclosed["channel"] == "sms" and disclosed["carries_ai"] is True
    assert disclosed["block"] == "ai-disclosure" and disclosed["version"] == 1
    slot = entry["ai"]["slots"]["opener"]
    assert slot["provider"] == "offline" and list(slot["inputs"]) == ["first_name"]
    assert {f["check"] for f in slot["findings"]} >= {"length", "personal_data"}
    with transaction(services.sessions) as session:
        again = rerender(
            session,
            found[0]["id"],
            providers=build_providers(services.settings),
            actor="aud@example.com",
            keys=archive_keyring(services.settings),
        )
    assert again.identical


def test_the_category_policy_decides_which_topics_ai_text_may_not_touch(world: World) -> None:
    root = world.as_("root@example.com")
    assert root.patch("/policies/service", {"forbidden_topics": ["nope"]}).status_code == 422
    changed = root.patch("/policies/service", {"forbidden_topics": ["discounts"]})
    assert changed.status_code == 200 and changed.get_json()["forbidden_topics"] == ["discounts"]
    ai_template(world)
    send_ai(world)
    dispatch(world)
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    discount = sam.post(
        f"/signoffs/{item_id}/approve",
        {"slots": {"opener": "Hi Ana, enjoy 10% discount on your next order."}},
    )
    assert discount.status_code == 422
    refund = sam.post(
        f"/signoffs/{item_id}/approve",
        {"slots": {"opener": "Hi Ana, refunds are explained on your receipt."}},
    )
    assert refund.status_code == 200
