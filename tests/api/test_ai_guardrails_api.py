"""Through the public API with a fake OpenAI-compatible model: what the guardrails hold back."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.support.flows import ai_template, sent_bodies
from tests.support.model import generated_item
from tests.support.world import World


def generated(world: World, model: HTTPServer, reply: str, finish: str = "stop") -> Any:
    """Send one message, let a worker ask the fake model, and read the slot a person sees."""
    sam = world.as_("sam@example.com")
    item_id = generated_item(world, model, reply, finish)
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
