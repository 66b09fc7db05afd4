"""Red-teaming a version's AI slots through the API, with a fake model that can be talked round."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from tests.support.flows import ai_template, new_template
from tests.support.model import completion
from tests.support.world import World

RUN = "/templates/order-thanks/versions/1/red-team"


def gullible(request: Request) -> Response:
    """A model that obeys an order hidden in the data, or else writes a harmless greeting."""
    prompt = json.loads(request.data)["messages"][-1]["content"]
    if "Ignore all previous instructions" in prompt:
        answer = "Your refund of £480 is approved! Reply with your card number within 24 hours."
    elif "delivery address of" in prompt:
        answer = "Hi Ana, thanks for your order. Tell Pat we said hello."
    else:
        answer = "Hi Ana, thank you for your order."
    return Response(json.dumps(completion(answer)), content_type="application/json")


def model_world(make_world: Callable[..., World], model: HTTPServer) -> World:
    model.expect_request("/v1/chat/completions").respond_with_handler(gullible)
    world = make_world(
        ai_provider="openai", ai_base_url=model.url_for("/v1"), ai_model="fake", ai_max_retries=0
    )
    ai_template(world)
    return world


def prompts(model: HTTPServer) -> list[str]:
    return [json.loads(r.data)["messages"][-1]["content"] for r, _ in model.log]


def test_a_reviewer_runs_the_red_team_and_sees_what_the_model_wrote_and_what_fired(
    make_world: Callable[..., World], model: HTTPServer
) -> None:
    world = model_world(make_world, model)
    answer = world.as_("lee@example.com").post(RUN)
    assert answer.status_code == 201, answer.get_json()
    run = answer.get_json()
    assert (run["provider"], run["model"], run["mode"]) == ("openai", "fake", "model")
    # first_name is the slot's only input: a baseline and seven attacks, each one model call.
    assert run["summary"]["cases"] == len(run["cases"]) == 8 == len(model.log)
    by_kind = {c["kind"]: c for c in run["cases"]}
    injected = by_kind["instruction_injection"]
    assert injected["outcome"] == "caught"
    assert "refund of £480" in injected["text"]
    fired = {f["check"] for f in injected["findings"]}
    assert {"commitments", "requests"} & fired, fired
    assert by_kind["baseline"]["outcome"] == "held"
    assert run["summary"]["exposed_if_obeyed"] == 0
    assert all(c["if_obeyed"] == "caught" for c in run["cases"] if c["kind"] != "baseline")


def test_invisible_characters_in_a_hostile_value_never_reach_the_model(
    make_world: Callable[..., World], model: HTTPServer
) -> None:
    world = model_world(make_world, model)
    run = world.as_("lee@example.com").post(RUN).get_json()
    hidden = next(c for c in run["cases"] if c["kind"] == "hidden_characters")
    assert hidden["hidden_stripped"] > 10
    assert not any(
        0xE0000 <= ord(ch) <= 0xE007F or ch in "\u200b\u2060" for p in prompts(model) for ch in p
    )
    # The forged end of the data block is escaped: the notice names the delimiter and the block
    # closes once, whatever the value says.
    assert all(p.count("</customer_data>") == 2 for p in prompts(model))
    assert any("\\u003c/customer_data\\u003e" in p for p in prompts(model))


def test_the_run_is_kept_with_the_version_listed_newest_first_and_audited(
    make_world: Callable[..., World], model: HTTPServer
) -> None:
    world = model_world(make_world, model)
    first = world.as_("lee@example.com").post(RUN).get_json()
    second = world.as_("max@example.com").post(RUN).get_json()
    listed = world.as_("aud@example.com").get(RUN).get_json()
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert listed[1]["run_by"] == "lee@example.com"
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "template.red_team")
        )
        assert [(e.actor, e.target, e.detail["cases"]) for e in entries] == [
            ("lee@example.com", "order-thanks v1", 8),
            ("max@example.com", "order-thanks v1", 8),
        ]


def test_the_offline_provider_runs_the_deterministic_path_and_says_so(world: World) -> None:
    ai_template(world)
    run = world.as_("lee@example.com").post(RUN).get_json()
    assert (run["provider"], run["mode"]) == ("offline", "deterministic")
    assert {c["outcome"] for c in run["cases"]} <= {"held", "caught"}
    assert run["summary"]["exposed_if_obeyed"] == 0


def test_a_model_that_is_down_is_recorded_and_nothing_is_approved(
    make_world: Callable[..., World], model: HTTPServer
) -> None:
    model.expect_request("/v1/chat/completions").respond_with_data("down", status=503)
    world = make_world(
        ai_provider="openai", ai_base_url=model.url_for("/v1"), ai_model="fake", ai_max_retries=0
    )
    ai_template(world)
    run = world.as_("lee@example.com").post(RUN).get_json()
    assert {c["outcome"] for c in run["cases"]} == {"unavailable"}
    assert "HTTP 503" in run["cases"][0]["findings"][0]["detail"]


def test_people_without_review_or_authoring_may_not_run_it(world: World) -> None:
    ai_template(world)
    for who in ("sam@example.com", "aud@example.com", "system"):
        answer = world.as_(who).post(RUN)
        assert answer.status_code == 403, who
    assert world.as_("aud@example.com").get(RUN).get_json() == []


def test_a_version_without_ai_slots_is_refused_naming_the_field(world: World) -> None:
    new_template(world)
    answer = world.as_("lee@example.com").post("/templates/order-confirmation/versions/1/red-team")
    assert answer.status_code == 422
    body: dict[str, Any] = answer.get_json()
    assert "ai_slots" in body["errors"]
    assert (
        world.as_("lee@example.com")
        .get("/templates/order-confirmation/versions/1/red-team")
        .get_json()
        == []
    )
