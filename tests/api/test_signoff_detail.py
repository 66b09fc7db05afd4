"""What a reviewer sees and confirms: the whole message, the input values, each finding."""

from __future__ import annotations

import hashlib

from pytest_httpserver import HTTPServer
from sqlalchemy import select

from hcs.ai.prompting import DATA_NOTICE, RULES, SYSTEM_PROMPT_VERSION
from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from hcs.worker.runtime import build_worker
from tests.support.flows import (
    ai_channels_template,
    ai_template,
    dispatch,
    send_ai,
    send_on,
    sent_bodies,
)
from tests.support.model import generated_item
from tests.support.world import World


def test_the_detail_shows_the_body_the_input_values_and_is_not_cached(world: World) -> None:
    ai_template(world)
    send_ai(world, first_name="Zoë")
    dispatch(world)
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    detail = sam.get(f"/signoffs/{item_id}")
    assert detail.headers["Cache-Control"] == "no-store"
    item = detail.get_json()
    assert item["rendered"]["body"] == (
        '<mark data-ai-slot="opener">Hi Zoë, thank you for shopping with us.</mark> '
        "Order A-1 is confirmed. (Written with AI, checked by our team.)"
    )
    slot = item["slots"][0]
    # The values the model saw, not digests; only the slot's declared inputs (not the email).
    assert slot["input_values"] == {"first_name": "Zoë"}
    assert slot["instruction"] == "Greet the customer warmly by first name."
    assert {f["check"] for f in slot["findings"]} >= {"length", "personal_data"}
    listed = sam.get("/signoffs").get_json()[0]["slots"][0]
    assert listed["input_values"] is None


def test_invisible_characters_in_the_model_text_are_made_visible(
    world: World, model: HTTPServer
) -> None:
    ai_template(world)
    item_id = generated_item(world, model, "Hi Ana, welcome\u200b back.")
    slot = world.as_("sam@example.com").get(f"/signoffs/{item_id}").get_json()["slots"][0]
    assert slot["generated"] == "Hi Ana, welcome\u200b back."
    assert slot["visible_generated"] == "Hi Ana, welcome⟨U+200B⟩ back."


def test_a_flagged_approval_needs_each_finding_acknowledged(world: World) -> None:
    root = world.as_("root@example.com")
    root.patch("/policies/service", {"forbidden_topics": ["discounts"]})
    ai_template(world)
    message_id = send_ai(world, first_name="Voucher")
    dispatch(world)
    sam = world.as_("sam@example.com")
    item = sam.get("/signoffs").get_json()[0]
    assert item["flagged"] and item["finding_codes"] == ["opener.forbidden_topics"]
    bare = sam.post(f"/signoffs/{item['id']}/approve", {"comment": "fine"})
    assert bare.status_code == 422 and "acknowledged" in bare.get_json()["errors"]
    wrong = sam.post(f"/signoffs/{item['id']}/approve", {"acknowledged": ["opener.links"]})
    assert wrong.status_code == 422 and "acknowledged" in wrong.get_json()["errors"]
    ok = sam.post(f"/signoffs/{item['id']}/approve", {"acknowledged": ["opener.forbidden_topics"]})
    assert ok.status_code == 200 and ok.get_json()["acknowledged"] == ["opener.forbidden_topics"]
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "signoff.approve"))
        assert entry is not None and entry.target == message_id
        assert entry.detail["acknowledged"] == ["opener.forbidden_topics"]


def test_provenance_keeps_the_final_text_digest_its_findings_and_the_acknowledgements(
    world: World,
) -> None:
    root = world.as_("root@example.com")
    root.patch("/policies/service", {"forbidden_topics": ["discounts"]})
    ai_template(world)
    message_id = send_ai(world, first_name="Coupon")
    dispatch(world)
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    edited = "Hi there, lovely to see you again."
    answer = sam.post(
        f"/signoffs/{item_id}/approve",
        {"slots": {"opener": edited}, "acknowledged": ["opener.forbidden_topics"]},
    )
    assert answer.status_code == 200, answer.get_json()
    services = world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()
    assert sent_bodies(world)[0].startswith(edited)
    auditor = world.as_("aud@example.com")
    found = auditor.get(f"/archive?message_id={message_id}").get_json()
    ai = auditor.get(f"/archive/{found[0]['id']}").get_json()["ai"]
    slot = ai["slots"]["opener"]
    assert slot["digest"] == "sha256:" + hashlib.sha256(edited.encode()).hexdigest()
    assert not all(f["passed"] for f in slot["findings"])  # the model's text
    assert all(f["passed"] for f in slot["final_findings"])  # the text sent
    assert {f["check"] for f in slot["final_findings"]} >= {"forbidden_topics", "length"}
    assert ai["acknowledged"] == ["opener.forbidden_topics"]


def test_each_generation_records_the_system_prompt_version_and_digest(
    world: World, model: HTTPServer
) -> None:
    ai_template(world)
    item_id = generated_item(world, model, "Hi Ana, lovely to see you again.")
    [request] = [r for r, _ in model.log if r.path == "/v1/chat/completions"]
    sent = request.get_json()["messages"][0]["content"]
    sam = world.as_("sam@example.com")
    assert sam.post(f"/signoffs/{item_id}/approve").status_code == 200
    services = world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()
    auditor = world.as_("aud@example.com")
    [found] = auditor.get("/archive").get_json()
    slot = auditor.get(f"/archive/{found['id']}").get_json()["ai"]["slots"]["opener"]
    fixed = "\n".join((*RULES, DATA_NOTICE))
    assert slot["system_prompt"] == {
        "version": SYSTEM_PROMPT_VERSION,
        "digest": "sha256:" + hashlib.sha256(fixed.encode()).hexdigest(),
        "sent_digest": "sha256:" + hashlib.sha256(sent.encode()).hexdigest(),
    }


def _detail(world: World, message_id: str) -> dict:
    sam = world.as_("sam@example.com")
    [item] = [i for i in sam.get("/signoffs").get_json() if i["message_id"] == message_id]
    return dict(sam.get(f"/signoffs/{item['id']}").get_json())


def test_the_detail_shows_an_sms_with_its_encoding_and_segments(world: World) -> None:
    ai_template(world)
    plain, accented = send_ai(world, first_name="Zoe"), send_ai(world, first_name="Zoë")
    dispatch(world)
    item = _detail(world, plain)
    assert item["channel"] == "sms" and item["locale"] == "en"
    body = "Hi Zoe, thank you for shopping with us. Order A-1 is confirmed. "
    sms = item["channel_details"]
    assert sms["segments"] == 1 and sms["encoding"] == "GSM-7"
    assert sms["characters"] == len(body + "(Written with AI, checked by our team.)")
    # One letter outside GSM-7 in the model's text makes it UCS-2: two segments, not one.
    sms = _detail(world, accented)["channel_details"]
    assert sms["encoding"] == "UCS-2" and sms["segments"] == 2
    assert sms["ucs2_characters"] == ["ë"]


def test_the_detail_shows_email_html_chat_and_letters_with_the_ai_text_marked(
    world: World,
) -> None:
    ai_template(world)
    ai_channels_template(world)
    email = send_on(world, "order-letters", "email", {"email": "ana@example.com"})
    chat = send_on(world, "order-letters", "chat", {"chat": "conv-1"})
    letter = send_on(
        world, "order-letters", "letter", {"address": ["Ana Ruiz", "1 High St", "Leeds LS1 1AA"]}
    )
    while dispatch(world):
        pass
    shown = _detail(world, email)
    assert shown["channel"] == "email" and shown["rendered"]["subject"] == "Order A-1"
    assert '<p><mark data-ai-slot="opener">Hi Ana, thank you' in shown["rendered"]["html"]
    assert shown["rendered"]["text"].startswith('<mark data-ai-slot="opener">Hi Ana')
    bubble = _detail(world, chat)
    assert bubble["rendered"]["body"].startswith('<mark data-ai-slot="opener">Hi Ana')
    assert bubble["rendered"]["quick_replies"] == ["Track it"]
    paper = _detail(world, letter)
    assert paper["channel"] == "letter"
    assert '<mark data-ai-slot="opener">Hi Ana' in paper["rendered"]["html"]
    assert paper["channel_details"]["pages"] == 1
