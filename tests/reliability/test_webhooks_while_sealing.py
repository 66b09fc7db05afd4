"""SendGrid reports recorded on archive entries while the sealer seals them: no deadlock, no 503.

Each webhook request carries reports about several emails in no particular order (SendGrid
batches them by time, not by message), each appended as an event to its email's archive entry,
while the sealer numbers those same entries. Before the lock order was fixed this deadlocked on
PostgreSQL (see `hcs.sealing.sealer`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hcs import archive
from hcs.archive import ArchiveEvent
from hcs.infrastructure.db import transaction
from hcs.infrastructure.delivery import read_delivery
from hcs.messages.models import Message, MessageEvent
from templates_store.models import TemplateVersion
from templates_store.orm import utcnow
from tests.support.archive import entry_fields
from tests.support.factories import make_draft, make_template
from tests.support.sendgrid import PUBLIC_KEY, signed
from tests.support.world import World

SECONDS = 12.0  # before the fix, PostgreSQL deadlocked within the first two or three seconds
EMAILS_PER_ROUND = 24
PER_POST = 8  # reports per webhook request


@dataclass
class Traffic:
    """What the threads did: answers by status, reports posted, failures of the sealer."""

    answers: Counter[int] = field(default_factory=Counter)
    bodies: list[str] = field(default_factory=list)
    posted: set[str] = field(default_factory=set)
    sealed: int = 0
    sealer_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def world(backend: str, make_world: Callable[..., World]) -> Iterator[World]:
    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time and no row locks: nothing to deadlock")
    world = make_world()
    services = world.app.extensions["hcs"]
    delivery = read_delivery({"SENDGRID_WEBHOOK_PUBLIC_KEY": PUBLIC_KEY})
    services.settings = replace(services.settings, delivery=delivery)
    with transaction(services.sessions) as session:
        make_template(session)
        make_draft(session)
    yield world


def _sent_emails(session: Session, keys: archive.Keyring, first: int) -> list[str]:
    """Emails SendGrid accepted, each with its (unsealed) archive entry."""
    version = session.scalars(select(TemplateVersion.id)).one()
    ids = []
    for n in range(first, first + EMAILS_PER_ROUND):
        message = Message(
            id=f"msg_{n:06d}",
            template_key="order-confirmation",
            version_id=version,
            version_number=1,
            channel="email",
            category="transactional",
            recipient_key=f"r{n}@example.com",
            to={"email": f"r{n}@example.com"},
            data={},
            status="sent",
            provider="sendgrid",
            provider_message_id=f"sg{n}",
            requested_by="system",
            sent_at=utcnow(),
        )
        session.add(message)
        ids.append(message.id)
    session.flush()
    outputs = [
        archive.Output(**entry_fields(n, message_id=f"msg_{n:06d}", provider="sendgrid"))
        for n in range(first, first + EMAILS_PER_ROUND)
    ]
    archive.archive_outputs(session, outputs, keys)
    return ids


def _reports(ids: list[str], kind: str) -> list[dict[str, object]]:
    now = int(datetime.now(UTC).timestamp())
    return [
        {
            "email": f"r{int(message_id[4:])}@example.com",
            "timestamp": now,
            "event": kind,
            "sg_message_id": f"sg{int(message_id[4:])}.filter0001.1.0",
            "sg_event_id": f"{kind}-{message_id}",
            "hcs_reference": message_id,
        }
        for message_id in ids
    ]


def _poster(world: World, traffic: Traffic, queue: list[list[str]], seed: int) -> None:
    client, shuffle = world.app.test_client(), random.Random(seed)
    while not traffic.stop.is_set():
        with traffic.lock:
            ids = queue.pop() if queue else []
        if not ids:
            time.sleep(0.005)
            continue
        shuffle.shuffle(ids)  # SendGrid orders a batch by time, not by message
        for kind in ("delivered", "open"):
            events = _reports(ids, kind)
            body = json.dumps(events).encode()
            answer = client.post("/webhooks/sendgrid", data=body, headers=signed(body))
            with traffic.lock:
                traffic.answers[answer.status_code] += 1
                if answer.status_code != 200:
                    traffic.bodies.append(answer.get_data(as_text=True))
                else:
                    traffic.posted.update(str(e["sg_event_id"]) for e in events)


def _sealer(world: World, traffic: Traffic) -> None:
    sessions = world.app.extensions["hcs"].sessions
    while not traffic.stop.is_set():
        try:
            with transaction(sessions) as session:
                sealed = archive.seal_archive(session, batch_size=7)
        except Exception as exc:  # reported by the test, with PostgreSQL's detail
            diag = getattr(getattr(exc, "orig", None), "diag", None)
            detail = getattr(diag, "message_detail", "")
            with traffic.lock:
                traffic.sealer_errors.append(f"{type(exc).__name__}: {detail or exc}")
            continue
        with traffic.lock:
            traffic.sealed += sealed


def _producer(world: World, traffic: Traffic, queue: list[list[str]]) -> None:
    services = world.app.extensions["hcs"]
    keys, first = archive.keyring(services.settings), 0
    while not traffic.stop.is_set():
        with transaction(services.sessions) as session:
            ids = _sent_emails(session, keys, first)
        first += EMAILS_PER_ROUND
        with traffic.lock:
            queue.extend(ids[i : i + PER_POST] for i in range(0, len(ids), PER_POST))
        time.sleep(0.02)


def _run(world: World, seconds: float) -> Traffic:
    traffic, queue = Traffic(), []
    threads = [
        threading.Thread(target=_producer, args=(world, traffic, queue)),
        threading.Thread(target=_sealer, args=(world, traffic)),
        *(threading.Thread(target=_poster, args=(world, traffic, queue, n)) for n in range(2)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    traffic.stop.set()
    for thread in threads:
        thread.join(30)
    return traffic


def test_reports_recorded_while_the_sealer_runs_never_deadlock_nor_answer_503(
    world: World,
) -> None:
    traffic = _run(world, SECONDS)
    failures = f"{traffic.answers}, sealer failed {len(traffic.sealer_errors)} times"
    assert traffic.sealer_errors == [], failures
    assert traffic.bodies == [] and set(traffic.answers) == {200}, failures
    assert traffic.answers[200] >= 10 and traffic.sealed >= 100, failures  # they overlapped
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        archive.seal_archive(session)
        events = session.scalar(select(func.count()).select_from(ArchiveEvent))
        recorded = session.scalar(select(func.count()).select_from(MessageEvent))
        result = archive.verify_archive(session)
    # Every report the webhook accepted is on its message and in the archive, once.
    assert events == recorded == len(traffic.posted)
    assert result.ok, result.reason
