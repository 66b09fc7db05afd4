"""The API refuses what it must, with the status a client can act on, and changes nothing."""

from __future__ import annotations

from hcs.identity import create_api_key, revoke_api_key
from hcs.infrastructure.db import transaction
from tests.support.flows import PARTS, new_template, reviewed
from tests.support.world import World


def _submitted(world: World) -> None:
    new_template(world)
    assert (
        world.as_("ana@example.com")
        .post("/templates/order-confirmation/versions/1/submit")
        .status_code
        == 200
    )


def test_an_author_cannot_approve_their_own_version(world: World) -> None:
    max_ = world.as_("max@example.com")
    max_.post(
        "/templates", {"key": "own-work", "name": "Own", "category": "service", "channels": ["sms"]}
    )
    max_.post("/templates/own-work/versions", {"parts": {"sms": {"en": {"body": "Hello"}}}})
    max_.post("/templates/own-work/versions/1/submit")
    answer = max_.post("/templates/own-work/versions/1/approve", {"comment": "fine"})
    assert answer.status_code == 403 and "you wrote version 1" in answer.get_json()["message"]
    assert max_.get("/templates/own-work/versions/1").get_json()["approvals"] == []


def test_approving_a_draft_is_a_conflict(world: World) -> None:
    new_template(world)
    answer = world.as_("lee@example.com").post("/templates/order-confirmation/versions/1/approve")
    assert answer.status_code == 409 and "only a version in review" in answer.get_json()["message"]


def test_editing_a_submitted_version_is_a_conflict(world: World) -> None:
    _submitted(world)
    ana = world.as_("ana@example.com")
    answer = ana.patch("/templates/order-confirmation/versions/1", {"parts": {}})
    assert answer.status_code == 409 and "start a new draft" in answer.get_json()["message"]
    assert ana.get("/templates/order-confirmation/versions/1").get_json()["parts"] == PARTS


def test_publishing_a_version_in_review_is_a_conflict(world: World) -> None:
    _submitted(world)
    answer = world.as_("lee@example.com").post("/templates/order-confirmation/versions/1/publish")
    assert answer.status_code == 409


def test_an_unknown_template_is_not_found(world: World) -> None:
    lee = world.as_("lee@example.com")
    assert lee.get("/templates/no-such-thing").status_code == 404
    assert lee.post("/templates/no-such-thing/versions/1/approve").status_code == 404


def test_a_bad_payload_is_422_naming_the_field(world: World) -> None:
    ana = world.as_("ana@example.com")
    answer = ana.post(
        "/templates", {"key": "x-y-z", "name": "X", "category": "promo", "channels": ["email"]}
    )
    assert answer.status_code == 422
    assert "category" in answer.get_json()["errors"]["json"]
    new_template(world)
    bad = ana.patch(
        "/templates/order-confirmation/versions/1",
        {"parts": {"sms": {"en": {"body": "Hi {{ name }"}}}},
    )
    assert bad.status_code == 422 and "parts.sms.body.en" in bad.get_json()["errors"]
    assert ana.get("/templates").get_json()[0]["key"] == "order-confirmation"


def test_missing_malformed_and_revoked_keys_are_401(world: World) -> None:
    client = world.app.test_client()
    missing = client.get("/api/v1/templates")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/api/v1/templates", headers={"Authorization": "Bearer hcs_nonsense"})
    assert bad.status_code == 401
    with transaction(world.app.extensions["hcs"].sessions) as session:
        revoke_api_key(session, "ana", actor="root@example.com")
    assert world.as_("ana@example.com").get("/templates").status_code == 401


def test_a_key_without_the_scope_or_role_is_403(world: World) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        _, read_only = create_api_key(
            session, name="lee-read", scopes=["read"], user_email="lee@example.com", actor="t"
        )
    world.keys["lee-read"] = read_only
    _submitted(world)
    narrow = world.as_("lee-read").post("/templates/order-confirmation/versions/1/approve")
    assert narrow.status_code == 403
    system = world.as_("system").post("/templates/order-confirmation/versions/1/approve")
    assert system.status_code == 403
    author = world.as_("ana@example.com").post("/templates/order-confirmation/versions/1/approve")
    assert author.status_code == 403
    policy = world.as_("lee@example.com").patch("/policies/marketing", {"review_days": 30})
    assert policy.status_code == 403


def test_blocks_must_be_approved_before_a_template_pins_them(world: World) -> None:
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    ana.post("/blocks", {"key": "footer", "name": "Footer"})
    ana.post(
        "/blocks/footer/versions",
        {"content": {"html": {"en": "<p>Northwind</p>"}, "text": {"en": "-- Northwind"}}},
    )
    new_template(world)
    parts = {**PARTS, "sms": {"en": {"body": "Order {{ order_id }}. {{ block('footer') }}"}}}
    ana.patch("/templates/order-confirmation/versions/1", {"parts": parts})
    refused = ana.post("/templates/order-confirmation/versions/1/submit")
    assert refused.status_code == 422 and "blocks.footer" in refused.get_json()["errors"]
    ana.post("/blocks/footer/versions/1/submit")
    assert lee.post("/blocks/footer/versions/1/approve").get_json()["status"] == "approved"
    lee.post("/blocks/footer/versions/1/publish")
    approved = reviewed(world, "order-confirmation", 1, "bo@example.com")
    assert approved["closure"]["blocks"]["footer"]["number"] == 1
    lee.post("/templates/order-confirmation/versions/1/publish")
    ana.post(
        "/blocks/footer/versions",
        {"content": {"html": {"en": "<p>Northwind Ltd</p>"}, "text": {"en": "-- Northwind Ltd"}}},
    )
    ana.post("/blocks/footer/versions/2/submit")
    lee.post("/blocks/footer/versions/2/approve")
    lee.post("/blocks/footer/versions/2/publish")
    stale = ana.get("/templates/needs-update").get_json()
    assert stale == [
        {
            "template": "order-confirmation",
            "version": 1,
            "block": "footer",
            "pinned": 1,
            "published": 2,
        }
    ]
