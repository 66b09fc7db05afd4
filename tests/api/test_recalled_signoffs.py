"""A recalled message waiting for sign-off: the person's decision still counts, the recall too."""

from __future__ import annotations

from tests.support.flows import ai_template, dispatch, send_ai, sent_bodies, status
from tests.support.world import World

VERSION = "/templates/order-thanks/versions/1"


def recalled_while_waiting(world: World) -> tuple[str, int]:
    """A message in the sign-off queue whose version is then suspended: its id and item."""
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    lee = world.as_("lee@example.com")
    held = lee.post(f"{VERSION}/suspend", {"reason": "Wrong claim in the copy"})
    assert held.get_json() == {"held": 1} and status(world, message_id)["status"] == "held"
    item_id = world.as_("sam@example.com").get("/signoffs").get_json()[0]["id"]
    return message_id, int(item_id)


def kinds(world: World, message_id: str) -> list[str]:
    return [event["kind"] for event in status(world, message_id)["events"]]


def test_rejecting_a_recalled_message_ends_it_and_resuming_does_not_bring_it_back(
    world: World,
) -> None:
    message_id, item_id = recalled_while_waiting(world)
    comment = {"comment": "Too familiar for this customer."}
    assert (
        world.as_("sam@example.com").post(f"/signoffs/{item_id}/reject", comment).status_code == 200
    )
    assert status(world, message_id)["status"] == "rejected"
    assert world.as_("lee@example.com").post(f"{VERSION}/resume").get_json() == {"released": 0}
    while dispatch(world):
        pass
    assert status(world, message_id)["status"] == "rejected" and sent_bodies(world) == []
    assert kinds(world, message_id) == [
        "accepted",
        "awaiting_signoff",
        "held",
        "signoff_rejected",
    ]


def test_approving_a_recalled_message_keeps_it_held_until_the_version_resumes(
    world: World,
) -> None:
    message_id, item_id = recalled_while_waiting(world)
    assert world.as_("sam@example.com").post(f"/signoffs/{item_id}/approve", {}).status_code == 200
    assert dispatch(world) == 0 and status(world, message_id)["status"] == "held"
    resumed = world.as_("lee@example.com").post(f"{VERSION}/resume")
    assert resumed.get_json() == {"released": 1}
    while dispatch(world):
        pass
    assert status(world, message_id)["status"] == "sent" and len(sent_bodies(world)) == 1
    assert kinds(world, message_id) == [
        "accepted",
        "awaiting_signoff",
        "held",
        "signed_off",
        "released",
        "sent",
    ]
