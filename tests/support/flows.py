"""What many API tests do first: templates taken to published, messages sent and dispatched."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hcs.dispatch.providers import build_providers
from hcs.identity import create_api_key
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from hcs.worker.runtime import Worker
from tests.support.world import World

PARTS = {
    "email": {
        "en": {
            "subject": "Your order {{ order_id }}",
            "html": '<html lang="en"><body><p>Hi {{ first_name }}, order {{ order_id }} is '
            "confirmed.</p></body></html>",
        }
    },
    "sms": {"en": {"body": "Order {{ order_id }} is confirmed."}},
}
VARIABLES = [
    {"name": "order_id", "type": "string", "required": True, "example": "A-1001"},
    {"name": "first_name", "type": "string", "required": True, "data_class": "personal"},
]
SAMPLE = {"order_id": "A-1001", "first_name": "Ana"}
ORDER = {
    "template": "order-confirmation",
    "channel": "email",
    "to": {"email": "Customer@Example.com", "name": "Ana Ruiz"},
    "data": {"order_id": "A-1001", "first_name": "Ana"},
}
SLOT = {
    "name": "opener",
    "instruction": "Greet the customer warmly by first name.",
    "inputs": ["first_name"],
    "max_chars": 80,
    "fallback": "Thank you for shopping with us.",
    "tone": "friendly",
    "on_failure": "fallback",
}
FOOTER = {"text": {"en": "Northwind Ltd"}, "html": {"en": "<p>Northwind Ltd</p>"}}
AI_BODY = "{{ opener }} Order {{ order_id }} is confirmed. {{ block('ai-disclosure') }}"


def new_template(world: World, key: str = "order-confirmation", **fields: Any) -> None:
    """Ana creates an email and SMS template `key` with a first draft."""
    ana = world.as_("ana@example.com")
    body = {
        "key": key,
        "name": "Order confirmation",
        "category": "transactional",
        "channels": ["email", "sms"],
        **fields,
    }
    assert ana.post("/templates", body).status_code == 201
    draft = ana.post(
        f"/templates/{key}/versions",
        {"parts": PARTS, "variables": VARIABLES, "sample_data": SAMPLE},
    )
    assert draft.status_code == 201, draft.get_json()


def reviewed(world: World, key: str, number: int, *reviewers: str) -> dict[str, Any]:
    """Ana submits the version and each reviewer approves it; the last answer."""
    assert (
        world.as_("ana@example.com").post(f"/templates/{key}/versions/{number}/submit").status_code
        == 200
    )
    answer: dict[str, Any] = {}
    for reviewer in reviewers:
        response = world.as_(reviewer).post(
            f"/templates/{key}/versions/{number}/approve",
            {"comment": "Checked against the policy."},
        )
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
    return answer


def published(world: World, key: str = "order-confirmation", **fields: Any) -> None:
    """A template `key` whose version 1 Lee approved and published."""
    new_template(world, key=key, **fields)
    reviewed(world, key, 1, "lee@example.com")
    world.as_("lee@example.com").post(f"/templates/{key}/versions/1/publish")


def dispatch(world: World) -> int:
    """One round of the in-process worker; how many messages it handled."""
    services = world.app.extensions["hcs"]
    worker = Worker(services.sessions, build_providers(services.settings), on_sent=None)
    return worker.run_once()


DISCLOSURE = {
    "text": {"en": "(Written with AI, checked by our team.)"},
    "html": {"en": "<p>Written with AI, checked by our team.</p>"},
}


def disclosure_block(world: World, content: dict[str, Any] | None = None) -> None:
    """Ana writes the AI-disclosure block (`content`, else DISCLOSURE) and Lee publishes it."""
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    shipped = ana.get("/blocks/ai-disclosure")
    if content is None and shipped.status_code == 200 and shipped.get_json()["published_version"]:
        return  # the demo set ships and publishes it
    ana.post("/blocks", {"key": "ai-disclosure", "name": "AI disclosure"})
    made = ana.post("/blocks/ai-disclosure/versions", {"content": content or DISCLOSURE})
    assert made.status_code == 201, made.get_json()
    ana.post("/blocks/ai-disclosure/versions/1/submit")
    lee.post("/blocks/ai-disclosure/versions/1/approve")
    assert lee.post("/blocks/ai-disclosure/versions/1/publish").status_code == 200


def ai_template(world: World, key: str = "order-thanks") -> None:
    """A published SMS template `key` with an AI slot and the published AI-disclosure block."""
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    disclosure_block(world)
    ana.post(
        "/templates", {"key": key, "name": "Thanks", "category": "service", "channels": ["sms"]}
    )
    variables = [
        {"name": "order_id", "type": "string", "required": True},
        {"name": "first_name", "type": "string", "required": True, "data_class": "personal"},
        {"name": "email", "type": "email", "required": False, "data_class": "personal"},
    ]
    draft = ana.post(
        f"/templates/{key}/versions",
        {
            "parts": {"sms": {"en": {"body": AI_BODY}}},
            "variables": variables,
            "sample_data": {"order_id": "A-1", "first_name": "Ana"},
            "ai_slots": [SLOT],
        },
    )
    assert draft.status_code == 201, draft.get_json()
    assert ana.post(f"/templates/{key}/versions/1/submit").status_code == 200
    lee.post(f"/templates/{key}/versions/1/approve")
    assert lee.post(f"/templates/{key}/versions/1/publish").status_code == 200


AI_CHANNEL_PARTS = {
    "email": {
        "en": {
            "subject": "Order {{ order_id }}",
            "html": '<html lang="en"><body><p>{{ opener }}</p><p>Order {{ order_id }} is '
            "confirmed.</p>{{ block('ai-disclosure') }}</body></html>",
            "text": "{{ opener }} Order {{ order_id }} is confirmed. {{ block('ai-disclosure') }}",
        }
    },
    "chat": {"en": {"body": AI_BODY, "quick_replies": ["Track it"]}},
    "letter": {
        "en": {
            "html": "<h1>Order {{ order_id }}</h1><p>{{ opener }}</p>{{ block('ai-disclosure') }}",
            "css": "@page { size: A4 }",
        }
    },
}


def ai_channels_template(world: World, key: str = "order-letters") -> None:
    """A published template `key` with the opener slot on email, chat and letter (needs the
    disclosure block, e.g. from `ai_template`)."""
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    channels = sorted(AI_CHANNEL_PARTS)
    ana.post("/templates", {"key": key, "name": key, "category": "service", "channels": channels})
    draft = ana.post(
        f"/templates/{key}/versions",
        {
            "parts": AI_CHANNEL_PARTS,
            "variables": [
                {"name": "order_id", "type": "string", "required": True},
                {"name": "first_name", "type": "string", "required": True},
            ],
            "sample_data": {"order_id": "A-1", "first_name": "Ana"},
            "ai_slots": [SLOT],
        },
    )
    assert draft.status_code == 201, draft.get_json()
    submitted = ana.post(f"/templates/{key}/versions/1/submit")
    assert submitted.status_code == 200, submitted.get_json()
    lee.post(f"/templates/{key}/versions/1/approve")
    assert lee.post(f"/templates/{key}/versions/1/publish").status_code == 200


def send_on(world: World, key: str, channel: str, to: dict[str, str], **data: Any) -> str:
    """The backend sends template `key` on `channel`; the message's id."""
    body = {"order_id": "A-1", "first_name": "Ana", **data}
    answer = world.as_("system").post(
        "/messages", {"template": key, "channel": channel, "to": to, "data": body}
    )
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def send_ai(world: World, first_name: str = "Ana", key: str = "order-thanks") -> str:
    """The backend sends the AI template by SMS; the message's id."""
    answer = world.as_("system").post(
        "/messages",
        {
            "template": key,
            "channel": "sms",
            "to": {"phone": "+447400123456"},
            "data": {
                "order_id": "A-1",
                "first_name": first_name,
                "email": "ana.private@example.com",
            },
        },
    )
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def status(world: World, message_id: str) -> dict[str, Any]:
    """The message as the admin reads it through the API."""
    answer: dict[str, Any] = world.as_("root@example.com").get(f"/messages/{message_id}").get_json()
    return answer


def sent_bodies(world: World) -> list[str]:
    """The bodies of the SMS messages in the outbox, in the order they were sent."""
    path = world.app.extensions["hcs"].settings.outbox_dir / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["body"] for line in path.read_text().splitlines()]


def other_sender(world: World) -> str:
    """A second system key that may send and read, as another backend would hold."""
    with transaction(world.app.extensions["hcs"].sessions) as session:
        _, key = create_api_key(session, name="billing", scopes=["send", "read"], actor="t")
    world.keys["billing"] = key
    return key


def published_component(world: World, kind: str, key: str, body: dict[str, Any]) -> None:
    """Ana writes a block or theme `key`; Lee approves (posting the hash shown) and publishes it."""
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    assert ana.post(f"/{kind}s", {"key": key, "name": key.title()}).status_code == 201
    assert ana.post(f"/{kind}s/{key}/versions", body).status_code == 201
    shown = ana.post(f"/{kind}s/{key}/versions/1/submit").get_json()
    approved = lee.post(
        f"/{kind}s/{key}/versions/1/approve", {"closure_hash": shown["closure_hash"]}
    )
    assert approved.status_code == 200, approved.get_json()
    assert lee.post(f"/{kind}s/{key}/versions/1/publish").status_code == 200


def receipt_template(world: World) -> None:
    """A published SMS template that pins the published footer block and the default theme."""
    published_component(world, "block", "footer", {"content": FOOTER})
    published_component(world, "theme", "default", {"settings": {"company_name": "Northwind"}})
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    body = {"key": "receipt", "name": "Receipt", "category": "transactional", "channels": ["sms"]}
    assert ana.post("/templates", body).status_code == 201
    draft = {
        "parts": {"sms": {"en": {"body": "Order {{ order_id }} is ready. {{ block('footer') }}"}}},
        "variables": [{"name": "order_id", "type": "string", "required": True}],
        "sample_data": {"order_id": "A-1"},
    }
    assert ana.post("/templates/receipt/versions", draft).status_code == 201
    assert ana.post("/templates/receipt/versions/1/submit").status_code == 200
    assert lee.post("/templates/receipt/versions/1/approve").status_code == 200
    assert lee.post("/templates/receipt/versions/1/publish").status_code == 200


def send_orders(world: World, count: int) -> list[str]:
    """`count` orders sent by the system key, each to a customer of its own; their ids."""
    ids = []
    for n in range(count):
        body = {**ORDER, "to": {"email": f"customer{n}@example.com"}}
        answer = world.as_("system").post("/messages", body)
        assert answer.status_code == 202, answer.get_json()
        ids.append(str(answer.get_json()["id"]))
    return ids


def statuses_of(world: World) -> dict[str, str]:
    """Every message's status, by id."""
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return dict(session.execute(select(Message.id, Message.status)).all())
