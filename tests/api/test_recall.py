"""A recall holds what was not sent yet; the impact report lists who received which version."""

from __future__ import annotations

from tests.support.flows import ORDER, dispatch, published
from tests.support.world import World


def _send(world: World, email: str) -> str:
    answer = world.as_("system").post("/messages", {**ORDER, "to": {"email": email}})
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def _status(world: World, message_id: str) -> str:
    return str(world.as_("root@example.com").get(f"/messages/{message_id}").get_json()["status"])


def test_suspending_a_version_holds_its_unsent_messages(world: World) -> None:
    published(world)
    first = _send(world, "first@example.com")
    dispatch(world)
    waiting = [_send(world, f"later{i}@example.com") for i in range(3)]
    lee = world.as_("lee@example.com")
    suspended = lee.post(
        "/templates/order-confirmation/versions/1/suspend",
        {"reason": "Wrong delivery date in the copy"},
    )
    assert suspended.status_code == 200 and suspended.get_json() == {"held": 3}
    assert dispatch(world) == 0
    assert {_status(world, i) for i in waiting} == {"held"} and _status(world, first) == "sent"
    refused = world.as_("system").post("/messages", ORDER)
    assert refused.status_code == 409 and "suspended" in refused.get_json()["message"]
    assert (
        world.as_("ana@example.com")
        .post("/templates/order-confirmation/versions/1/resume")
        .status_code
        == 403
    )
    resumed = lee.post("/templates/order-confirmation/versions/1/resume")
    assert resumed.get_json() == {"released": 3}
    while dispatch(world):
        pass
    assert {_status(world, i) for i in waiting} == {"sent"}


def test_the_impact_report_lists_recipients_per_version_and_channel(world: World) -> None:
    published(world)
    for email in ("a@example.com", "b@example.com"):
        _send(world, email)
    world.as_("system").post(
        "/messages", {**ORDER, "channel": "sms", "to": {"phone": "+447400123456"}}
    )
    while dispatch(world):
        pass
    report = world.as_("aud@example.com").get("/templates/order-confirmation/impact").get_json()
    rows = {(r["version"], r["channel"]): r for r in report}
    assert rows[(1, "email")]["recipients"] == ["a@example.com", "b@example.com"]
    assert rows[(1, "sms")]["messages"] == 1
    empty = (
        world.as_("aud@example.com")
        .get("/templates/order-confirmation/impact?until=2000-01-01T00:00:00Z")
        .get_json()
    )
    assert empty == []
    assert (
        world.as_("ana@example.com").get("/templates/order-confirmation/impact").status_code == 403
    )
