"""Sending to chat for real: a loopback chat platform, the settings for it, a published template."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

from hcs.infrastructure.delivery import read_delivery
from tests.support.world import World

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


def chat_fields(chat_url: str, **fields: Any) -> dict[str, Any]:
    """Settings fields that send chat to the platform at `chat_url`, with `fields` over them."""
    environ = {
        "HCS_CHAT_PROVIDER": "webhook",
        "HCS_CHAT_WEBHOOK_URL": chat_url,
        "HCS_CHAT_WEBHOOK_SECRET": SECRET,
        **fields.pop("environ", {}),
    }
    return {"delivery": read_delivery(environ), **fields}


def publish_chat_template(world: World, key: str = "order-chat") -> None:
    """Ana writes a chat template `key`, Lee approves and publishes it."""
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
    """A batch of `count` chat messages of the published template."""
    return {
        "template": "order-chat",
        "channel": "chat",
        "messages": [
            {"to": {"chat": f"conv-{i}"}, "data": {"order_id": f"A-{i}", "first_name": "Ana"}}
            for i in range(start, start + count)
        ],
    }


def accept(world: World, count: int, start: int = 0) -> list[str]:
    """Accept `count` chat messages in one batch; their ids."""
    answer = world.as_("system").post("/messages/batch", chat_batch(count, start))
    assert answer.status_code == 202, answer.get_json()
    return [m["id"] for m in answer.get_json()["messages"]]


def statuses(world: World, ids: list[str]) -> Counter[str]:
    """How many of the messages `ids` are in each status."""
    system = world.as_("system")
    return Counter(system.get(f"/messages/{i}").get_json()["status"] for i in ids)
