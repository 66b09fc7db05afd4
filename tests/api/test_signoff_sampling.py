"""Batch approval by acceptance sampling: the server draws the sample, a person reads each one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from hcs.signoffs.sampling import inspection, plan_for
from tests.support.flows import ai_template, dispatch, send_ai, status
from tests.support.world import Caller, World

BATCH = {"template": "order-thanks", "version": 1}


def _campaign(world: World, names: list[str]) -> list[str]:
    ai_template(world)
    sent = [send_ai(world, first_name=name) for name in names]
    while dispatch(world):
        pass
    return sent


def _flagging_names(world: World) -> list[str]:
    """A policy forbidding discounts: greeting these three customers by name gets flagged."""
    root = world.as_("root@example.com")
    assert root.patch("/policies/service", {"forbidden_topics": ["discounts"]}).status_code == 200
    return ["Discount", "Voucher", "Coupon"]


def _items(sam: Caller) -> dict[int, dict]:
    return {item["id"]: item for item in sam.get("/signoffs").get_json()}


def test_the_sample_size_follows_iso_2859_level_ii_never_below_the_minimum() -> None:
    assert [plan_for(lot, 5)["sample"] for lot in (1, 3, 8, 20, 40, 100, 600)] == [
        1,
        3,
        5,
        5,
        8,
        20,
        80,
    ]
    assert plan_for(100, 5)["code"] == "F" and plan_for(10**6, 5)["sample"] == 1250
    assert plan_for(20, 12)["sample"] == 12


def test_the_server_draws_the_sample_and_each_drawn_item_must_be_approved_after_it(
    world: World,
) -> None:
    _campaign(world, [f"Customer{chr(65 + i)}" for i in range(8)])
    sam = world.as_("sam@example.com")
    ids = sorted(_items(sam))
    # Decisions made before the draw do not count: this one leaves the set altogether.
    assert sam.post(f"/signoffs/{ids[0]}/approve", {}).status_code == 200
    drawn = sam.post("/signoffs/batches", BATCH)
    assert drawn.status_code == 201, drawn.get_json()
    batch = drawn.get_json()
    assert batch["set"] == ids[1:] and len(batch["sample"]) == 5
    assert set(batch["sample"]) <= set(ids[1:]) and batch["plan"]["code"] == "A"
    early = sam.post(f"/signoffs/batches/{batch['id']}/approve", {})
    assert early.status_code == 409 and "one by one" in early.get_json()["message"]
    late = send_ai(world, first_name="Latecomer")
    dispatch(world)
    for item_id in batch["sample"]:
        assert sam.post(f"/signoffs/{item_id}/approve", {}).status_code == 200
    released = sam.post(f"/signoffs/batches/{batch['id']}/approve", {"comment": "sampled"})
    assert released.status_code == 200 and released.get_json()["approved"] == 2
    # The message that arrived after the draw is not covered.
    assert [item["message_id"] for item in _items(sam).values()] == [late]
    assert status(world, late)["status"] == "awaiting_signoff"
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "signoff.batch_approve")
        )
        assert entry is not None and entry.detail["set"] == ids[1:]
        assert [d["id"] for d in entry.detail["sample"]] == batch["sample"]
        assert {d["status"] for d in entry.detail["sample"]} == {"approved"}
        assert entry.detail["plan"]["sample"] == 5 and entry.detail["plan"]["lot"] == 7


def test_a_second_batch_needs_its_own_fresh_sample(world: World) -> None:
    _campaign(world, [f"Customer{chr(65 + i)}" for i in range(6)])
    sam = world.as_("sam@example.com")
    first = sam.post("/signoffs/batches", BATCH).get_json()
    for item_id in first["sample"]:
        sam.post(f"/signoffs/{item_id}/approve", {})
    assert sam.post(f"/signoffs/batches/{first['id']}/approve", {}).status_code == 200
    assert sam.post(f"/signoffs/batches/{first['id']}/approve", {}).status_code == 409
    for n in range(6):
        send_ai(world, first_name=f"Later{chr(65 + n)}")
    while dispatch(world):
        pass
    second = sam.post("/signoffs/batches", BATCH).get_json()
    assert set(second["set"]).isdisjoint(first["set"]) and len(second["sample"]) == 5
    refused = sam.post(f"/signoffs/batches/{second['id']}/approve", {})
    assert refused.status_code == 409 and "one by one" in refused.get_json()["message"]
    assert len(_items(sam)) == 6


def test_flagged_decisions_do_not_count_for_the_sample(world: World) -> None:
    _campaign(world, [*_flagging_names(world), "AnnA", "BenB", "CaraC", "DanD"])
    sam = world.as_("sam@example.com")
    items = _items(sam)
    flagged = [i for i, item in items.items() if item["flagged"]]
    assert len(flagged) == 3, [item["slots"][0]["findings"] for item in items.values()]
    batch = sam.post("/signoffs/batches", BATCH).get_json()
    assert set(batch["sample"]).isdisjoint(flagged) and batch["plan"]["lot"] == 4
    for item_id in flagged:
        codes = items[item_id]["finding_codes"]
        answer = sam.post(f"/signoffs/{item_id}/approve", {"acknowledged": codes})
        assert answer.status_code == 200, answer.get_json()
    refused = sam.post(f"/signoffs/batches/{batch['id']}/approve", {})
    assert refused.status_code == 409 and "one by one" in refused.get_json()["message"]


def test_a_rejection_in_the_sample_refuses_the_batch(world: World) -> None:
    _campaign(world, [f"Customer{chr(65 + i)}" for i in range(7)])
    sam = world.as_("sam@example.com")
    batch = sam.post("/signoffs/batches", BATCH).get_json()
    *approved, rejected = batch["sample"]
    for item_id in approved:
        sam.post(f"/signoffs/{item_id}/approve", {})
    sam.post(f"/signoffs/{rejected}/reject", {"comment": "Wrong tone."})
    refused = sam.post(f"/signoffs/batches/{batch['id']}/approve", {})
    assert refused.status_code == 409 and "refused" in refused.get_json()["message"]
    assert sam.get(f"/signoffs/batches/{batch['id']}").get_json()["status"] == "refused"
    assert len(_items(sam)) == 2


def test_a_set_up_to_a_moment_leaves_later_messages_out(world: World) -> None:
    first = _campaign(world, ["AnnA", "BenB", "CaraC"])
    moment = datetime.now(UTC).isoformat()
    later = send_ai(world, first_name="DanD")
    dispatch(world)
    sam = world.as_("sam@example.com")
    by_message = {item["message_id"]: i for i, item in _items(sam).items()}
    batch = sam.post("/signoffs/batches", {**BATCH, "up_to": moment}).get_json()
    assert batch["set"] == sorted(by_message[m] for m in first)
    assert by_message[later] not in batch["set"] and len(batch["sample"]) == 3
    bad = sam.post("/signoffs/batches", {**BATCH, "up_to": "yesterday"})
    assert bad.status_code == 422 and "up_to" in bad.get_json()["errors"]["json"]


def test_after_a_rejection_in_the_sample_the_next_set_is_drawn_at_the_tightened_level(
    world: World,
) -> None:
    _campaign(world, [f"Customer{chr(65 + i)}{chr(65 + j)}" for i in range(4) for j in range(5)])
    sam = world.as_("sam@example.com")
    first = sam.post("/signoffs/batches", BATCH).get_json()
    assert first["plan"]["inspection"] == "normal" and first["plan"]["sample"] == 5
    sam.post(f"/signoffs/{first['sample'][0]}/reject", {"comment": "Wrong tone."})
    second = sam.post("/signoffs/batches", BATCH).get_json()
    # 19 clean items: code letter C (5) at normal inspection, one letter on (D, 8) tightened.
    assert second["plan"]["lot"] == 19 and second["plan"]["inspection"] == "tightened"
    assert second["plan"]["code"] == "D" and len(second["sample"]) == 8
    for item_id in second["sample"]:
        assert sam.post(f"/signoffs/{item_id}/approve", {}).status_code == 200
    approved = sam.post(f"/signoffs/batches/{second['id']}/approve", {})
    assert approved.status_code == 200 and approved.get_json()["approved"] == 11


def test_tightened_inspection_returns_to_normal_after_five_accepted_sets() -> None:
    assert plan_for(19, 5, tightened=True)["sample"] == 8
    assert plan_for(10**6, 5, tightened=True)["sample"] == 1250
    assert inspection(["refused"]) == "tightened"
    assert inspection(["approved"] * 4 + ["refused"]) == "tightened"
    assert inspection(["approved"] * 5 + ["refused"]) == "normal"
    assert inspection([]) == "normal"
