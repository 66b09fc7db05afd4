"""The message log through the API and the web: filters, keyset pages, who sees what."""

from __future__ import annotations

from typing import Any

from tests.support.flows import ORDER, dispatch, other_sender, published
from tests.support.web import sign_in
from tests.support.world import World


def order(n: int, **fields: Any) -> dict[str, Any]:
    return {**ORDER, "data": {"order_id": f"A-{n}", "first_name": "Ana"}, **fields}


def all_pages(world: World, who: str, query: str = "", limit: int = 2) -> list[dict]:
    """Every message the log shows `who`, following `next_cursor` to the end."""
    items, cursor, pages = [], None, 0
    while True:
        url = f"/messages?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        answer = world.as_(who).get(url)
        assert answer.status_code == 200, answer.get_json()
        items += answer.get_json()["items"]
        cursor, pages = answer.get_json()["next_cursor"], pages + 1
        if cursor is None:
            return items
        assert pages < 50


def test_the_log_pages_through_everything_newest_first_without_repeats(world: World) -> None:
    published(world)
    sent = [world.as_("system").post("/messages", order(n)).get_json()["id"] for n in range(5)]
    shown = all_pages(world, "system")
    assert [m["id"] for m in shown] == sent[::-1]
    assert shown[0]["to"] == ORDER["to"] and shown[0]["template"] == "order-confirmation"
    # A message sent while a caller pages through does not shift the pages after its cursor.
    first = world.as_("system").get("/messages?limit=2").get_json()
    world.as_("system").post("/messages", order(99))
    rest = all_pages_from(world, first["next_cursor"])
    assert [m["id"] for m in rest] == sent[2::-1]


def all_pages_from(world: World, cursor: str) -> list[dict]:
    answer = world.as_("system").get(f"/messages?limit=10&cursor={cursor}").get_json()
    return answer["items"]


def test_each_caller_sees_its_own_messages_and_admins_and_auditors_see_all(
    world: World,
) -> None:
    published(world)
    mine = world.as_("system").post("/messages", order(1)).get_json()["id"]
    other_sender(world)
    theirs = world.as_("billing").post("/messages", order(2)).get_json()["id"]
    assert [m["id"] for m in all_pages(world, "system")] == [mine]
    assert [m["id"] for m in all_pages(world, "billing")] == [theirs]
    for who in ("root@example.com", "aud@example.com"):
        assert {m["id"] for m in all_pages(world, who)} == {mine, theirs}
    assert world.as_("billing").get(f"/messages/{mine}").status_code == 404
    assert world.as_("system").get(f"/messages/{mine}").status_code == 200
    assert world.as_("ana@example.com").get("/messages").status_code == 403


def test_filters_narrow_the_log_and_bad_ones_name_the_field(world: World) -> None:
    published(world)
    system = world.as_("system")
    one = system.post("/messages", order(1)).get_json()["id"]
    batch = system.post(
        "/messages/batch",
        {
            "template": "order-confirmation",
            "channel": "sms",
            "messages": [
                {"to": {"phone": f"+44740012345{n}"}, "data": {"order_id": "B", "first_name": "B"}}
                for n in range(3)
            ],
        },
    ).get_json()
    assert "batch_id" in batch, batch
    assert dispatch(world) == 4
    by_batch = all_pages(world, "system", f"&batch_id={batch['batch_id']}")
    assert len(by_batch) == 3 and {m["channel"] for m in by_batch} == {"sms"}
    assert [m["id"] for m in all_pages(world, "system", "&channel=email")] == [one]
    assert len(all_pages(world, "system", "&status=sent&template=order-confirmation")) == 4
    assert all_pages(world, "system", "&status=failed") == []
    created = system.get(f"/messages/{one}").get_json()["created_at"]
    after = all_pages(world, "system", f"&created_after={created.replace('+', '%2B')}")
    assert len(after) == 4
    before = all_pages(world, "system", f"&created_before={created.replace('+', '%2B')}")
    assert before == []
    for bad, field in (
        ("status=lost", "status"),
        ("cursor=not-a-cursor", "cursor"),
        ("limit=0", "limit"),
        ("created_after=yesterday", "created_after"),
    ):
        answer = system.get(f"/messages?{bad}")
        assert answer.status_code == 422, bad
        errors = answer.get_json()["errors"]
        assert field in errors.get("query", errors), answer.get_json()


def test_a_batch_counts_its_messages_per_status(world: World) -> None:
    published(world)
    item = {"to": {"email": "a@example.com"}, "data": {"order_id": "B", "first_name": "B"}}
    body = {"template": "order-confirmation", "channel": "email", "messages": [item] * 3}
    batch_id = world.as_("system").post("/messages/batch", body).get_json()["batch_id"]
    before = world.as_("system").get(f"/batches/{batch_id}").get_json()
    assert before["total"] == 3 and before["counts"] == {"accepted": 3}
    dispatch(world)
    after = world.as_("root@example.com").get(f"/batches/{batch_id}").get_json()
    assert after["counts"] == {"sent": 3} and after["id"] == batch_id
    other_sender(world)
    assert world.as_("billing").get(f"/batches/{batch_id}").status_code == 404
    assert world.as_("system").get("/batches/bat_nothing").status_code == 404


def test_the_messages_page_filters_and_masks_recipients_for_signoff_staff(
    world: World,
) -> None:
    published(world)
    world.as_("system").post("/messages", order(1))
    world.as_("system").post("/messages", order(2, channel="sms", to={"phone": "+447400123456"}))
    auditor, staff = world.app.test_client(), world.app.test_client()
    sign_in(auditor, "aud@example.com")
    sign_in(staff, "sam@example.com")
    seen = auditor.get("/messages").text
    assert "customer@example.com" in seen.lower() and "+447400123456" in seen
    masked = staff.get("/messages").text
    assert "Customer@Example.com" not in masked and "+447400123456" not in masked
    assert "C•••@Example.com" in masked and "•••56" in masked
    only_sms = auditor.get("/messages?channel=sms").text
    assert "+447400123456" in only_sms and "Customer@Example.com" not in only_sms
    wrong = auditor.get("/messages?since=last-week")
    assert wrong.status_code == 200 and "use a date such as" in wrong.text
    author = world.app.test_client()
    sign_in(author, "ana@example.com")
    assert author.get("/messages").status_code == 403
