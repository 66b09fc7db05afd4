"""Two reviewers deciding the same stage at the same moment record exactly one decision."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from hcs.governance.models import Approval
from tests.support.flows import new_template
from tests.support.server import post_json, serving
from tests.support.world import World


def test_two_reviewers_approving_one_stage_at_once_record_one_decision(world: World) -> None:
    new_template(world)
    world.as_("ana@example.com").post("/templates/order-confirmation/versions/1/submit")
    reviewers = ["lee@example.com", "bo@example.com"]
    start = threading.Barrier(len(reviewers))
    answers: dict[str, int] = {}

    def approve(url: str, reviewer: str) -> None:
        start.wait(timeout=5)
        status, _ = post_json(
            f"{url}/api/v1/templates/order-confirmation/versions/1/approve",
            {"stage": "legal", "comment": "ok"},
            world.keys[reviewer],
        )
        answers[reviewer] = status

    with serving(world.app) as url:
        threads = [threading.Thread(target=approve, args=(url, r)) for r in reviewers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
    assert sorted(answers.values()) == [200, 409]
    with world.app.extensions["hcs"].sessions() as session:
        decisions = session.scalar(select(func.count()).select_from(Approval))
    assert decisions == 1
    final = world.as_("ana@example.com").get("/templates/order-confirmation/versions/1")
    assert final.get_json()["status"] == "approved"
    assert len(final.get_json()["approvals"]) == 1
