"""A caller's own `reference` and `metadata`: stored, searchable, returned, bounded, never sent."""

from __future__ import annotations

from tests.support.flows import ORDER, dispatch, published
from tests.support.world import World

META = {"customer": "C-77", "tags": ["vip", "eu"], "nested": {"cart": 3}}


def test_reference_and_metadata_come_back_everywhere_the_message_is(world: World) -> None:
    published(world)
    system = world.as_("system")
    accepted = system.post("/messages", {**ORDER, "reference": "order-A-1001", "metadata": META})
    assert accepted.status_code == 202 and accepted.get_json()["reference"] == "order-A-1001"
    one = system.get(f"/messages/{accepted.get_json()['id']}").get_json()
    assert one["reference"] == "order-A-1001" and one["metadata"] == META
    item = {"to": {"email": "b@example.com"}, "data": {"order_id": "B", "first_name": "Bo"}}
    batch = system.post(
        "/messages/batch",
        {
            "template": "order-confirmation",
            "channel": "email",
            "messages": [{**item, "reference": "b-1", "metadata": {"n": 1}}, item],
        },
    ).get_json()
    assert [m["reference"] for m in batch["messages"]] == ["b-1", None]
    found = system.get("/messages?reference=b-1").get_json()["items"]
    assert [(m["id"], m["metadata"]) for m in found] == [(batch["messages"][0]["id"], {"n": 1})]
    listed = system.get(f"/messages?batch_id={batch['batch_id']}").get_json()["items"]
    assert {m["reference"] for m in listed} == {"b-1", None}
    assert system.get("/messages?reference=order-A-1001").get_json()["items"][0]["metadata"] == META


def test_metadata_is_never_rendered_into_what_is_sent(world: World) -> None:
    published(world)
    secret = {"first_name": "Mallory-in-metadata", "order_id": "X-metadata"}
    accepted = world.as_("system").post("/messages", {**ORDER, "metadata": secret}).get_json()
    assert dispatch(world) == 1
    eml = world.app.extensions["hcs"].settings.outbox_dir / "email" / f"{accepted['id']}.eml"
    sent = eml.read_bytes().decode()
    assert "Mallory-in-metadata" not in sent and "X-metadata" not in sent and "A-1001" in sent


def test_oversized_or_malformed_caller_fields_are_refused_by_name(world: World) -> None:
    published(world)
    system = world.as_("system")
    too_many = {f"k{n}": n for n in range(21)}
    too_big = {"blob": "x" * 4100}
    for body, field in (
        ({**ORDER, "reference": "r" * 256}, "reference"),
        ({**ORDER, "reference": ""}, "reference"),
        ({**ORDER, "metadata": too_many}, "metadata"),
        ({**ORDER, "metadata": too_big}, "metadata"),
        ({**ORDER, "metadata": ["not", "an", "object"]}, "metadata"),
    ):
        answer = system.post("/messages", body)
        assert answer.status_code == 422, body
        assert field in answer.get_json()["errors"]["json"], answer.get_json()
    batch = system.post(
        "/messages/batch",
        {
            "template": "order-confirmation",
            "channel": "email",
            "messages": [{"to": ORDER["to"], "data": ORDER["data"], "metadata": too_big}],
        },
    )
    assert batch.status_code == 422
    assert "metadata" in batch.get_json()["errors"]["json"]["messages"]["0"]
    assert system.get("/messages").get_json()["items"] == []
    assert system.post("/messages", {**ORDER, "reference": "r" * 255}).status_code == 202
