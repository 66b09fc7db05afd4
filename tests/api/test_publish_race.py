"""Publishing is serialised: of two publishes of one template at once, one wins, one is 409."""

from __future__ import annotations

import threading
from typing import Any

from tests.support.flows import PARTS, published, reviewed
from tests.support.world import World

KEY = "order-confirmation"


def _approved_draft(world: World, body: str) -> int:
    parts = {**PARTS, "sms": {"en": {"body": body}}}
    draft = world.as_("ana@example.com").post(f"/templates/{KEY}/versions", {"parts": parts})
    number = int(draft.get_json()["number"])
    reviewed(world, KEY, number, "bo@example.com")
    return number


def test_two_publishes_at_once_one_wins_the_other_is_a_conflict(world: World) -> None:
    published(world)  # version 1 sends
    second = _approved_draft(world, "Order {{ order_id }} is confirmed, thanks.")
    third = _approved_draft(world, "Order {{ order_id }} is confirmed. Thank you!")
    start, answers = threading.Barrier(2), {}

    def publish(number: int, who: str) -> None:
        caller = world.as_(who)  # each thread its own client, as two browsers
        start.wait()
        answers[number] = caller.post(
            f"/templates/{KEY}/versions/{number}/publish", {"replaces": 1}
        )

    threads = [
        threading.Thread(target=publish, args=(second, "lee@example.com")),
        threading.Thread(target=publish, args=(third, "bo@example.com")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(answer.status_code for answer in answers.values())
    assert codes == [200, 409], {n: a.get_json() for n, a in answers.items()}
    winner = next(n for n, a in answers.items() if a.status_code == 200)
    loser: Any = next(a for a in answers.values() if a.status_code == 409)
    assert "published" in loser.get_json()["message"]
    template = world.as_("ana@example.com").get(f"/templates/{KEY}").get_json()
    assert template["published_version"] == winner


def test_a_publish_that_replaces_what_it_saw_succeeds(world: World) -> None:
    published(world)
    second = _approved_draft(world, "Order {{ order_id }} is on its way.")
    lee = world.as_("lee@example.com")
    stale = lee.post(f"/templates/{KEY}/versions/{second}/publish", {"replaces": None})
    assert stale.status_code == 409
    fine = lee.post(f"/templates/{KEY}/versions/{second}/publish", {"replaces": 1})
    assert fine.status_code == 200 and fine.get_json()["status"] == "published"
