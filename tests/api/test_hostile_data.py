"""Invisible characters in customer data (bidi overrides, zero-width, tags) never go out."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

from tests.support.flows import ORDER, PARTS, VARIABLES, dispatch, reviewed
from tests.support.world import World

HIDDEN = ("\u202e", "\u200b", "\U000e0041")
SNEAKY = "A-\u202e1001\u200b\U000e0041"  # shows as A-1001 (reversed after the override)


def _published(world: World) -> None:
    ana = world.as_("ana@example.com")
    body = {
        "key": "order-confirmation",
        "name": "Order confirmation",
        "category": "transactional",
        "channels": ["email", "sms", "chat"],
    }
    assert ana.post("/templates", body).status_code == 201
    parts = {**PARTS, "chat": {"en": {"body": "Order {{ order_id }} is confirmed."}}}
    sample = {"order_id": "A-1001", "first_name": "Ana"}
    draft = {"parts": parts, "variables": VARIABLES, "sample_data": sample}
    assert ana.post("/templates/order-confirmation/versions", draft).status_code == 201
    reviewed(world, "order-confirmation", 1, "lee@example.com")
    world.as_("lee@example.com").post("/templates/order-confirmation/versions/1/publish")


def _send(world: World, channel: str, to: dict[str, str]) -> str:
    data = {"order_id": SNEAKY, "first_name": "An\u200ba"}
    answer = world.as_("system").post(
        "/messages", {**ORDER, "channel": channel, "to": to, "data": data}
    )
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def _clean(text: str) -> bool:
    return not any(char in text for char in HIDDEN)


def test_invisible_characters_never_reach_an_sms_a_chat_or_an_email_subject(
    world: World,
) -> None:
    _published(world)
    email = _send(world, "email", {"email": "ana@example.com", "name": "Ana\u202e Ruiz\u200b"})
    sms = _send(world, "sms", {"phone": "+447400123456"})
    chat = _send(world, "chat", {"chat": "conv-42"})
    assert dispatch(world) == 3
    outbox = world.app.extensions["hcs"].settings.outbox_dir
    sent = message_from_bytes(
        (outbox / "email" / f"{email}.eml").read_bytes(), policy=policy.default
    )
    assert sent["Subject"] == "Your order A-1001"
    assert sent["To"] == "Ana Ruiz <ana@example.com>"
    assert _clean(sent.get_body(("html",)).get_content())
    [sms_line] = (outbox / "sms.jsonl").read_text("utf-8").splitlines()
    assert json.loads(sms_line)["body"] == "Order A-1001 is confirmed."
    [chat_line] = (outbox / "chat.jsonl").read_text("utf-8").splitlines()
    assert json.loads(chat_line)["body"] == "Order A-1001 is confirmed."
    for message_id in (email, sms, chat):
        events = world.as_("root@example.com").get(f"/messages/{message_id}").get_json()["events"]
        [cleaned] = [e for e in events if e["kind"] == "data_cleaned"]
        assert "data.order_id" in cleaned["detail"]["fields"]


def test_a_preview_warns_that_invisible_characters_were_removed(world: World) -> None:
    _published(world)
    answer = world.as_("ana@example.com").post(
        "/templates/order-confirmation/preview",
        {"channel": "sms", "data": {"order_id": SNEAKY, "first_name": "Ana"}},
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["output"]["body"] == "Order A-1001 is confirmed."
    [warning] = [w for w in answer.get_json()["warnings"] if w["code"] == "invisible_characters"]
    assert "order_id" in warning["message"]
