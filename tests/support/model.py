"""A fake OpenAI-compatible model on loopback, and a message generated through it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pytest_httpserver import HTTPServer

from hcs.dispatch.providers import build_providers
from hcs.worker.runtime import Worker
from tests.support.flows import send_ai
from tests.support.httpservers import LoopbackServer
from tests.support.world import World


def completion(text: str, finish_reason: str = "stop") -> dict[str, Any]:
    """A chat completion answering `text`."""
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


@contextmanager
def loopback_model() -> Iterator[HTTPServer]:
    """A fake OpenAI-compatible server on 127.0.0.1, stopped afterwards."""
    server = LoopbackServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def generated_item(world: World, model: HTTPServer, reply: str, finish: str = "stop") -> int:
    """Send one message, let a worker ask the fake model once; the sign-off item's id."""
    answer = completion(reply, finish)
    model.expect_oneshot_request("/v1/chat/completions").respond_with_json(answer)
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
    return int(world.as_("sam@example.com").get("/signoffs").get_json()[-1]["id"])
