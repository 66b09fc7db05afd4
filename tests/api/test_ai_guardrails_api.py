"""Through the public API with a fake OpenAI-compatible model: what the guardrails hold back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from hcs.dispatch.providers import build_providers
from hcs.worker.runtime import Worker
from tests.support.flows import ai_template, send_ai, sent_bodies
from tests.support.world import World


def completion(text: str, finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-api",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
    }


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def generated(world: World, model: HTTPServer, reply: str, finish: str = "stop") -> Any:
    """Send one message, let a worker ask the fake model, and read the slot a person sees."""
    model.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        completion(reply, finish)
    )
    services = world.app.extensions["hcs"]
    settings = dataclasses.replace(
        services.settings,
        ai_provider="openai",
        ai_base_url=model.url_for("/v1"),
        ai_model="fake",
        ai_max_retries=0,
    )
    send_ai(world)
    Worker(services.sessions, build_providers(settings), on_sent=None).run_once()
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[-1]["id"]
    return sam.get(f"/signoffs/{item_id}").get_json()["slots"][0]


@pytest.mark.parametrize(
    ("reply", "finish", "check"),
    [
        ("Hi Ana, we'll put every cent back on your card.", "stop", "commitments"),
        ("Hi Ana, questions? Ring us on 020 7946 0958.", "stop", "novel_facts"),
        ("Hi Ana, track it at http://203.0.113.7/t.", "stop", "links"),
        ("Hi Ana, reply with the code we texted you.", "stop", "requests"),
        ("Hi Ana, welcome\U000e0041 back.", "stop", "hidden_characters"),
        ("Hi Ana, welcome back, it is so good to", "length", "answer_state"),
    ],
)
def test_a_harmful_reply_is_flagged_and_replaced_by_the_fallback(
    world: World, model: HTTPServer, reply: str, finish: str, check: str
) -> None:
    ai_template(world)
    slot = generated(world, model, reply, finish)
    assert slot["flagged"] and slot["text"] == "Thank you for shopping with us."
    assert check in {f["check"] for f in slot["findings"] if not f["passed"]}
    assert sent_bodies(world) == []


def test_a_benign_reply_that_names_a_sensitive_word_passes(world: World, model: HTTPServer) -> None:
    ai_template(world)
    slot = generated(world, model, "Hi Ana, lovely to see you; we never ask for your password.")
    assert not slot["flagged"], slot["findings"]
    assert slot["text"] == "Hi Ana, lovely to see you; we never ask for your password."
