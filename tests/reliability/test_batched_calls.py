"""Several messages in one provider call: SendGrid personalizations and the outbox's files.

The fake SendGrid here builds each recipient's email the way SendGrid does, by applying the
personalization's substitutions to the request's content, so the tests check what a customer
would receive against what HCS archived.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from hcs.archive import ArchiveEntry
from hcs.archive.reading import read_entry
from hcs.dispatch import rounds
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.delivery import read_delivery
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from hcs.worker.runtime import Worker, build_worker
from templates_store.orm import utcnow
from tests.support.flows import ORDER, published
from tests.support.provider_calls import counting_email
from tests.support.world import World

SEND = "/v3/mail/send"


class FakeSendGrid:
    """Records each request and the emails it stands for; answers as `answer` says."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], Response] = lambda body: Response(
            status=202, headers={"X-Message-Id": f"req{len(self.requests)}"}
        )

    def handle(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.requests.append(body)
        return self.answer(body)

    def emails(self) -> dict[str, dict[str, str]]:
        """Each received email by HCS's reference: its recipient, subject, text and HTML."""
        received = {}
        for body in self.requests:
            for one in body["personalizations"]:
                swaps = one.get("substitutions", {})
                content = {}
                for part in body["content"]:
                    value = part["value"]
                    for tag, text in swaps.items():
                        value = value.replace(tag, text)
                    content[part["type"]] = value
                reference = one.get("custom_args", body.get("custom_args", {}))["hcs_reference"]
                received[reference] = {
                    "to": one["to"][0]["email"],
                    "subject": one.get("subject", body.get("subject", "")),
                    "text": content["text/plain"],
                    "html": content["text/html"],
                }
        return received


@pytest.fixture(autouse=True)
def one_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """A round finishes all its messages before sending, however slow the machine."""
    monkeypatch.setattr(rounds, "PREPARE_BUDGET", 60.0)


@pytest.fixture
def sendgrid(httpserver: HTTPServer) -> FakeSendGrid:
    fake = FakeSendGrid()
    httpserver.expect_request(SEND, method="POST").respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def email_world(make_world: Callable[..., World], httpserver: HTTPServer) -> World:
    world = make_world(
        delivery=read_delivery(
            {
                "HCS_EMAIL_PROVIDER": "sendgrid",
                "SENDGRID_API_KEY": "SG.test",
                "HCS_SENDGRID_HOST": httpserver.url_for("/").rstrip("/"),
                "HCS_SENDGRID_TIMEOUT": "2",
            }
        )
    )
    published(world)
    return world


def accept(world: World, count: int, *, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        to = {"email": f"customer{n}@example.com", "name": f"Customer {n}"}
        answer = world.as_("system").post("/messages", {**ORDER, "to": to})
        assert answer.status_code == 202, answer.get_json()
        ids.append(str(answer.get_json()["id"]))
    return ids


def worker(world: World) -> Worker:
    services = world.app.extensions["hcs"]
    return build_worker(services.settings, services.sessions)


def statuses(world: World, ids: list[str]) -> dict[str, str]:
    with world.app.extensions["hcs"].sessions() as session:
        found = session.execute(select(Message.id, Message.status).where(Message.id.in_(ids)))
        return {message_id: status for message_id, status in found}


def archived_email(world: World, keys: Any, message_id: str) -> EmailMessage:
    with world.app.extensions["hcs"].sessions.begin() as session:
        entry = session.scalars(
            select(ArchiveEntry).where(ArchiveEntry.message_id == message_id)
        ).one()
        output = read_entry(session, entry.id, actor="test", keys=keys).output
    assert output is not None
    return message_from_bytes(output, policy=policy.default)  # type: ignore[return-value]


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def part(email: EmailMessage, kind: str) -> str:
    body = email.get_body(preferencelist=(kind,))
    assert body is not None
    return str(body.get_content())


def test_a_round_of_emails_goes_to_sendgrid_in_one_call_each_as_archived(
    email_world: World, sendgrid: FakeSendGrid
) -> None:
    ids = accept(email_world, 5)
    sender = worker(email_world)
    assert sender.run_once() == 5
    # One request carrying the five, not a request a message.
    assert [len(body["personalizations"]) for body in sendgrid.requests] == [5]
    assert statuses(email_world, ids) == dict.fromkeys(ids, "sent")
    received = sendgrid.emails()
    assert set(received) == set(ids)
    for n, message_id in enumerate(ids):
        archived = archived_email(email_world, sender.keys, message_id)
        got = received[message_id]
        assert got["to"] == f"customer{n}@example.com"
        assert got["subject"] == archived["Subject"]
        assert got["html"].strip() == part(archived, "html").strip()
        assert got["text"].strip() == part(archived, "plain").strip()


def test_each_message_of_a_call_gets_one_sent_event_and_its_entry_closed(
    email_world: World, sendgrid: FakeSendGrid
) -> None:
    ids = accept(email_world, 4)
    worker(email_world).run_once()
    with email_world.app.extensions["hcs"].sessions() as session:
        events = session.execute(
            select(MessageEvent.message_id, func.count())
            .where(MessageEvent.message_id.in_(ids), MessageEvent.kind == "sent")
            .group_by(MessageEvent.message_id)
        )
        assert {m: n for m, n in events} == dict.fromkeys(ids, 1)
        open_entries = select(func.count()).where(
            OutboxEntry.message_id.in_(ids), OutboxEntry.done_at.is_(None)
        )
        assert session.scalar(open_entries) == 0
        provider_ids = session.scalars(
            select(Message.provider_message_id).where(Message.id.in_(ids))
        )
        assert set(provider_ids) == {"req1"}  # SendGrid's id of the request


def test_a_call_refused_outright_is_sent_again_one_by_one_and_only_the_bad_one_fails(
    email_world: World, sendgrid: FakeSendGrid
) -> None:
    ids = accept(email_world, 3)

    def refuse_the_batch(body: dict[str, Any]) -> Response:
        if len(body["personalizations"]) > 1 or body["personalizations"][0]["to"][0][
            "email"
        ].startswith("customer1@"):
            return Response('{"errors": [{"message": "invalid to"}]}', status=400)
        return Response(status=202, headers={"X-Message-Id": f"one{len(sendgrid.requests)}"})

    sendgrid.answer = refuse_the_batch
    worker(email_world).run_once()
    assert len(sendgrid.requests) == 4  # the call, then each alone
    assert statuses(email_world, ids) == {ids[0]: "sent", ids[1]: "failed", ids[2]: "sent"}


def test_a_call_that_times_out_leaves_every_message_of_it_unknown_and_sends_none_again(
    email_world: World, sendgrid: FakeSendGrid
) -> None:
    ids = accept(email_world, 3)

    def too_slow(body: dict[str, Any]) -> Response:
        time.sleep(3.0)  # past the client's 2 s: SendGrid may well have taken them
        return Response(status=202)

    sendgrid.answer = too_slow
    sender = worker(email_world)
    sender.run_once()
    assert statuses(email_world, ids) == dict.fromkeys(ids, "unknown")
    assert sender.run_once() == 0  # waiting for evidence: nothing sent again
    assert len(sendgrid.requests) == 1


def test_a_busy_answer_to_a_call_queues_every_message_of_it_for_the_retry_after_time(
    email_world: World, sendgrid: FakeSendGrid
) -> None:
    ids = accept(email_world, 3)
    sendgrid.answer = lambda body: Response(status=429, headers={"Retry-After": "40"})
    worker(email_world).run_once()
    assert statuses(email_world, ids) == dict.fromkeys(ids, "queued")
    with email_world.app.extensions["hcs"].sessions() as session:
        entries = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id.in_(ids)))
        waits = [(as_utc(e.available_at) - utcnow()).total_seconds() for e in entries]
    assert len(waits) == 3 and all(35 < wait <= 41 for wait in waits)
    assert len(sendgrid.requests) == 1


def test_an_email_too_large_for_a_personalization_goes_in_a_call_of_its_own(
    email_world: World, sendgrid: FakeSendGrid
) -> None:
    ids = accept(email_world, 2)
    big = {**ORDER, "to": {"email": "big@example.com"}}
    big["data"] = {**ORDER["data"], "first_name": "B" * 12_000}  # type: ignore[dict-item]
    answer = email_world.as_("system").post("/messages", big)
    assert answer.status_code == 202, answer.get_json()
    worker(email_world).run_once()
    sizes = sorted(len(body["personalizations"]) for body in sendgrid.requests)
    assert sizes == [1, 2]
    assert statuses(email_world, [*ids, answer.get_json()["id"]]) == dict.fromkeys(
        [*ids, answer.get_json()["id"]], "sent"
    )


def test_the_outbox_writes_a_round_in_one_call_and_records_it_once(world: World) -> None:
    published(world)
    ids = accept(world, 6)
    services = world.app.extensions["hcs"]
    providers, outbox = counting_email(build_providers(services.settings))
    assert outbox.batch_size > 1
    outcomes = rounds.run_due(services.sessions, providers, owner="a")
    assert outbox.calls == [6]  # one call carrying the six, not one a message
    assert [o.status for o in outcomes] == ["sent"] * 6
    assert statuses(world, ids) == dict.fromkeys(ids, "sent")
    written = services.settings.outbox_dir / "email"
    assert {p.stem for p in written.glob("*.eml")} >= set(ids)
    with services.sessions() as session:  # each message its own id from the one call
        recorded = session.execute(
            select(Message.id, Message.provider_message_id).where(Message.id.in_(ids))
        )
        assert dict(recorded.all()) == {message_id: message_id for message_id in ids}
