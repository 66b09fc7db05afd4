"""A sending world for reliability tests: an app, a chat template, a loopback chat platform."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from hcs.http.app import create_app
from hcs.identity import create_api_key, create_user
from hcs.infrastructure import migrate
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import transaction
from hcs.infrastructure.delivery import read_delivery
from tests.api.conftest import ApiWorld

SECRET = "chat-secret"
CHAT_PARTS = {"chat": {"en": {"body": "Order {{ order_id }} is confirmed, {{ first_name }}."}}}
SAMPLE = {"order_id": "A-1001", "first_name": "Ana"}
VARIABLES = [
    {"name": "order_id", "type": "string", "required": True, "example": "A-1001"},
    {"name": "first_name", "type": "string", "required": True, "data_class": "personal"},
]


@dataclass
class ChatPlatform:
    """A loopback chat platform: records each POST, and answers as `script` says."""

    url: str
    received: list[str] = field(default_factory=list)
    script: Callable[[int, dict[str, Any]], tuple[int, str]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self.lock:
            self.received.append(body["id"])
            count = len(self.received)
        status, text = self.script(count, body) if self.script else (200, "")
        answer = text or json.dumps({"id": f"chat-{body['id']}"})
        return Response(answer, status=status, content_type="application/json")

    def delivered(self) -> set[str]:
        """What a platform that de-duplicates on the message `id` shows: each message once."""
        with self.lock:
            return set(self.received)

    def posts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)


@pytest.fixture
def chat_platform(httpserver: HTTPServer) -> Iterator[ChatPlatform]:
    platform = ChatPlatform(httpserver.url_for("/chat"))
    httpserver.expect_request("/chat", method="POST").respond_with_handler(platform.handle)
    yield platform


def chat_settings(url: str, var_dir: Path, chat_url: str, **fields: Any) -> Settings:
    """Settings that send chat to the loopback platform."""
    environ = {
        "HCS_CHAT_PROVIDER": "webhook",
        "HCS_CHAT_WEBHOOK_URL": chat_url,
        "HCS_CHAT_WEBHOOK_SECRET": SECRET,
        **fields.pop("environ", {}),
    }
    base = Settings(
        database_url=url, secret_key="test", var_dir=var_dir, delivery=read_delivery(environ)
    )
    return replace(base, **fields)


def sending_world(settings: Settings) -> ApiWorld:
    """An app on a migrated database, with an author, a reviewer, a system key, a chat template."""
    migrate.upgrade(settings.database_url)
    world = ApiWorld(create_app(settings))
    with transaction(world.app.extensions["hcs"].sessions) as session:
        for email, role in (("ana@example.com", "author"), ("lee@example.com", "reviewer")):
            create_user(session, email=email, roles=[role], password="a long passphrase", actor="t")
            _, world.keys[email] = create_api_key(
                session,
                name=email[:3],
                scopes=["read", "templates", "review"],
                user_email=email,
                actor="t",
            )
        _, world.keys["system"] = create_api_key(
            session, name="backend", scopes=["read", "send"], actor="t"
        )
    publish_chat_template(world)
    return world


def publish_chat_template(world: ApiWorld, key: str = "order-chat") -> None:
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    created = ana.post(
        "/templates",
        {"key": key, "name": "Order chat", "category": "transactional", "channels": ["chat"]},
    )
    assert created.status_code == 201, created.get_json()
    body = {"parts": CHAT_PARTS, "variables": VARIABLES, "sample_data": SAMPLE}
    draft = ana.post(f"/templates/{key}/versions", body)
    assert draft.status_code == 201, draft.get_json()
    submitted = ana.post(f"/templates/{key}/versions/1/submit")
    assert submitted.status_code == 200, submitted.get_json()
    approved = lee.post(f"/templates/{key}/versions/1/approve", {"comment": "Fine."})
    assert approved.status_code == 200, approved.get_json()
    assert lee.post(f"/templates/{key}/versions/1/publish").status_code == 200


def chat_batch(count: int, start: int = 0) -> dict[str, Any]:
    return {
        "template": "order-chat",
        "channel": "chat",
        "messages": [
            {"to": {"chat": f"conv-{i}"}, "data": {"order_id": f"A-{i}", "first_name": "Ana"}}
            for i in range(start, start + count)
        ],
    }


def accept(world: ApiWorld, count: int, start: int = 0) -> list[str]:
    """Accept `count` chat messages in one batch; their ids."""
    answer = world.as_("system").post("/messages/batch", chat_batch(count, start))
    assert answer.status_code == 202, answer.get_json()
    return [m["id"] for m in answer.get_json()["messages"]]


def statuses(world: ApiWorld, ids: list[str]) -> Counter[str]:
    system = world.as_("system")
    return Counter(system.get(f"/messages/{i}").get_json()["status"] for i in ids)


def close_world(world: ApiWorld) -> None:
    celery = world.app.extensions.get("celery")
    if celery is not None:
        celery.close()
    world.app.extensions["hcs"].engine.dispose()
