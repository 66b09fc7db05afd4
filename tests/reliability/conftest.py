"""A sending world for reliability tests: a world whose chat goes to a loopback chat platform."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.support.chat import ChatPlatform, chat_fields, publish_chat_template
from tests.support.world import World


@pytest.fixture
def chat_platform(httpserver: HTTPServer) -> Iterator[ChatPlatform]:
    platform = ChatPlatform(httpserver.url_for("/chat"))
    httpserver.expect_request("/chat", method="POST").respond_with_handler(platform.handle)
    yield platform


@pytest.fixture
def make_sending_world(
    make_world: Callable[..., World], chat_platform: ChatPlatform
) -> Callable[..., World]:
    """Builds worlds that send chat to the platform and have the chat template published."""

    def build(**fields: Any) -> World:
        world = make_world(**chat_fields(chat_platform.url, **fields))
        publish_chat_template(world)
        return world

    return build
