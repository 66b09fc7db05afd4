"""Approving the rest of a large campaign on the sign-off page runs as a job with its progress."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from tests.support.flows import ai_template, dispatch, send_ai, status
from tests.support.web import Person
from tests.support.world import World


@pytest.fixture
def ai_world(sqlite_world: World) -> Iterator[World]:
    world = sqlite_world
    services = world.app.extensions["hcs"]
    # More than two messages left run as a job.
    services.settings = replace(services.settings, jobs_inline_limit=2)
    yield world
    assert world.app.extensions["hcs.jobs"].wait(30)


def _campaign(world: World, size: int) -> list[str]:
    ai_template(world)
    sent = [send_ai(world, first_name=f"Person {n}") for n in range(size)]
    dispatch(world)
    return sent


def test_the_rest_of_a_large_campaign_is_approved_by_a_job_and_the_page_says_how_many(
    ai_world: World,
) -> None:
    sent = _campaign(ai_world, 8)
    sam = Person(ai_world.app, "sam@example.com")
    drawn = sam.post("/signoffs/batch", {"template": "order-thanks", "version": "1"})
    assert drawn.status_code == 302
    page = sam.get("/signoffs").text
    assert "Batch 1: decide the 5 sampled message(s) one by one" in page
    api = ai_world.as_("sam@example.com")
    sample = api.get("/signoffs/batches/1").get_json()["sample"]
    for item_id in sample:
        assert api.post(f"/signoffs/{item_id}/approve", {"comment": "sampled"}).status_code == 200
    started = sam.post("/signoffs/batches/1/approve", {"comment": "the rest"})
    job = started.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job)
    assert ai_world.app.extensions["hcs.jobs"].wait(30)
    page = sam.get(job)
    assert 'data-status="succeeded"' in page.text
    assert "3 messages of order-thanks v1 approved together." in page.text
    assert {status(ai_world, m)["status"] for m in sent} == {"queued"}
    assert "Nothing waits for sign-off." in sam.get("/signoffs").text
    assert Person(ai_world.app, "aud@example.com").get(job).status_code == 404
    with transaction(ai_world.app.extensions["hcs"].sessions) as session:
        batches = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "signoff.batch_approve")
        )
        assert [(e.actor, e.detail["approved"]) for e in batches] == [("sam@example.com", 3)]


def test_a_large_campaign_before_its_sample_is_refused_on_the_page_without_a_job(
    ai_world: World,
) -> None:
    _campaign(ai_world, 4)
    sam = Person(ai_world.app, "sam@example.com")
    sam.post("/signoffs/batch", {"template": "order-thanks", "version": "1"})
    refused = sam.post("/signoffs/batches/1/approve", {})
    assert refused.status_code == 409 and "one by one first" in refused.text
    assert 'id="signoff-error"' in refused.text
