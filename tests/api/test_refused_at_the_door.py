"""What the API can know without the worker is refused at once (422 naming the field)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.flows import ORDER, PARTS, SAMPLE, VARIABLES, dispatch, published
from tests.support.world import World


def _messages(world: World) -> int:
    return len(world.as_("system").get("/messages").get_json()["items"])


@pytest.mark.parametrize(
    ("to", "field"),
    [
        ({"email": "ana@example.com", "name": "Ana\r\nBcc: eve@example.com"}, "to.name"),
        ({"email": "ana@example.com", "name": "=?UTF-8?Q?=0A?=Bcc: eve@example.com"}, "to.name"),
        ({"email": "ana@example.com", "name": "Ana\u2028Ruiz"}, "to.name"),
        ({"email": "ana@example.com", "name": 5}, "to.name"),
        ({"email": "ana@example.com, eve@example.com"}, "to.email"),
        ({"email": "Ana <ana@example.com>"}, "to.email"),
    ],
)
def test_a_recipient_that_is_not_header_safe_is_refused_and_nothing_is_accepted(
    world: World, to: dict[str, Any], field: str
) -> None:
    published(world)
    answer = world.as_("system").post("/messages", {**ORDER, "to": to})
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"]
    batch = {"template": ORDER["template"], "channel": "email", "messages": [{"to": to}]}
    answer = world.as_("system").post("/messages/batch", {**batch})
    assert answer.status_code == 422
    assert f"messages.0.{field}" in answer.get_json()["errors"]
    assert _messages(world) == 0


def test_a_name_with_a_comma_or_an_accent_is_still_a_name(world: World) -> None:
    published(world)
    to = {"email": "ana@example.com", "name": "Ruiz, Ana-María"}
    assert world.as_("system").post("/messages", {**ORDER, "to": to}).status_code == 202


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_a_required_string_given_empty_is_refused(world: World, empty: str) -> None:
    published(world)
    data = {**ORDER["data"], "first_name": empty}
    answer = world.as_("system").post("/messages", {**ORDER, "data": data})
    assert answer.status_code == 422
    assert "data.first_name" in answer.get_json()["errors"]
    assert _messages(world) == 0


def _draft(world: World, key: str, parts: dict[str, Any], sample: dict[str, Any]) -> Any:
    ana = world.as_("ana@example.com")
    body = {"key": key, "name": "Door", "category": "transactional", "channels": ["email", "sms"]}
    assert ana.post("/templates", body).status_code == 201
    draft = {"parts": parts, "variables": VARIABLES, "sample_data": sample}
    assert ana.post(f"/templates/{key}/versions", draft).status_code == 201
    return ana.post(f"/templates/{key}/versions/1/submit")


def test_an_sms_whose_sample_needs_fourteen_segments_cannot_be_submitted(world: World) -> None:
    sample = {**SAMPLE, "order_id": "A-" + "1" * 2000}
    answer = _draft(world, "long-sms", PARTS, sample)
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert "checks.channel_limits.sms.body.en" in errors
    assert "14 segments" in errors["checks.channel_limits.sms.body.en"][0]


def test_a_subject_whose_sample_renders_an_encoded_word_cannot_be_submitted(world: World) -> None:
    sample = {**SAMPLE, "order_id": "=?UTF-8?Q?=0A?=Bcc: eve@example.com"}
    answer = _draft(world, "sneaky-subject", PARTS, sample)
    assert answer.status_code == 422
    assert "checks.channel_limits.email.subject.en" in answer.get_json()["errors"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"from_name": "Shop\r\nBcc: eve@example.com"}, "settings.from_name"),
        ({"from_name": "=?utf-8?b?U2hvcA==?="}, "settings.from_name"),
        ({"from_address": "shop@example.com, eve@example.com"}, "settings.from_address"),
        ({"from_address": 7}, "settings.from_address"),
    ],
)
def test_a_theme_whose_sender_is_not_header_safe_is_refused_when_saved(
    world: World, settings: dict[str, Any], field: str
) -> None:
    ana = world.as_("ana@example.com")
    assert ana.post("/themes", {"key": "brand-x", "name": "Brand"}).status_code == 201
    answer = ana.post("/themes/brand-x/versions", {"settings": settings})
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"]
    fine = ana.post("/themes/brand-x/versions", {"settings": {"from_name": "Shop, Ltd"}})
    assert fine.status_code == 201
    patched = ana.patch("/themes/brand-x/versions/1", {"settings": settings})
    assert patched.status_code == 422


def test_an_sms_that_only_the_customers_data_makes_too_long_fails_with_its_reason(
    world: World,
) -> None:
    published(world)
    data = {**ORDER["data"], "order_id": "A-" + "7" * 600}
    sms = {**ORDER, "channel": "sms", "to": {"phone": "+447400123456"}, "data": data}
    accepted = world.as_("system").post("/messages", sms)
    assert accepted.status_code == 202
    assert dispatch(world) == 1
    message = world.as_("system").get(f"/messages/{accepted.get_json()['id']}").get_json()
    assert message["status"] == "failed"
    assert message["reason"].startswith("cannot be finished: ")
    assert "segments" in message["reason"] and "at most 3" in message["reason"]
