"""Sent messages whose archive entry was never written are archived late, as they were sent."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text, update

from hcs import archive
from hcs.cli import main
from hcs.dispatch import backfill as backfilling
from hcs.dispatch.archiving import archive_sent
from hcs.dispatch.backfill import LateArchiver, archive_missed
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.db import transaction
from hcs.infrastructure.logs import JsonFormatter
from hcs.messages.models import Message, MessageEvent
from hcs.signoffs.gate import signed_off_texts
from hcs.worker.runtime import build_worker
from hcs.worker.sweeping import sweep_once
from hcs.worker.tasks import close_runtime, make_celery
from templates_store.orm import utcnow
from tests.support.flows import ORDER, ai_template, dispatch, published, send_ai
from tests.support.world import World

LATER = timedelta(minutes=3)


def send(world: World, **to: str) -> str:
    body = {**ORDER, "to": {**ORDER["to"], **to}}
    answer = world.as_("system").post("/messages", body)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def sent_unarchived(world: World, **to: str) -> str:
    """A message sent whose archive step never ran, as when its worker died right after `sent`."""
    message_id = send(world, **to)
    assert dispatch(world) == 1  # the worker has no after-send step
    assert entries(world) == {}
    return message_id


def backfill(world: World, later: timedelta = LATER) -> int:
    services = world.app.extensions["hcs"]
    return archive_missed(
        services.sessions,
        build_providers(services.settings),
        keys=archive.keyring(services.settings),
        now=utcnow() + later,
    )


def entries(world: World) -> dict[str, int]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        rows = session.execute(select(archive.ArchiveEntry.message_id, archive.ArchiveEntry.id))
        return {message_id: entry_id for message_id, entry_id in rows}


def opened(world: World, message_id: str) -> archive.OpenedEntry:
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        entry = archive.entry_for_message(session, message_id)
        return archive.open_entry(session, entry, archive.keyring(services.settings))


def events(world: World, message_id: str) -> list[tuple[str, dict[str, Any]]]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(MessageEvent).where(MessageEvent.message_id == message_id)
        return [(e.kind, e.detail) for e in session.scalars(query.order_by(MessageEvent.id))]


def sent_long_ago(world: World, message_id: str) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        moment = utcnow() - timedelta(minutes=5)
        session.execute(update(Message).where(Message.id == message_id).values(sent_at=moment))


def erase(world: World, message_id: str) -> None:
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        recipient = session.get_one(Message, message_id).recipient_key
        keys = archive.keyring(services.settings)
        archive.erase_recipient(session, recipient, actor="root@example.com", keys=keys)


def verify(world: World) -> Any:
    env = {"HCS_DATABASE_URL": world.app.extensions["hcs"].settings.database_url}
    return CliRunner().invoke(main, ["archive", "verify"], env=env)


def test_a_sent_email_is_archived_late_with_the_bytes_in_the_outbox(world: World) -> None:
    published(world)
    message_id = sent_unarchived(world)
    assert backfill(world) == 1
    entry = opened(world, message_id)
    eml = world.app.extensions["hcs"].settings.outbox_dir / "email" / f"{message_id}.eml"
    assert entry.state == "readable" and entry.output == eml.read_bytes()
    assert entry.entry.sent_at is not None and entry.entry.provider == "outbox"
    assert [kind for kind, _ in events(world, message_id)] == ["accepted", "sent", "archived_late"]
    assert backfill(world) == 0 and len(entries(world)) == 1
    result = verify(world)
    assert result.exit_code == 0 and result.output.startswith("1 entries"), result.output


def test_messages_inside_the_grace_period_are_left_to_their_worker(world: World) -> None:
    published(world)
    message_id = sent_unarchived(world)
    assert backfill(world, later=timedelta(0)) == 0
    assert entries(world) == {}
    assert backfill(world) == 1 and list(entries(world)) == [message_id]


def test_an_ai_message_is_archived_with_the_text_a_person_signed_off(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)  # generates the AI text; the message waits for sign-off
    sam = world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    approved = "Hi Ana, lovely to see you again."
    answer = sam.post(f"/signoffs/{item_id}/approve", {"slots": {"opener": approved}})
    assert answer.status_code == 200, answer.get_json()
    assert dispatch(world) == 1 and entries(world) == {}
    assert backfill(world) == 1
    entry = opened(world, message_id)
    sms = world.app.extensions["hcs"].settings.outbox_dir / "sms.jsonl"
    [line] = sms.read_text().splitlines()
    assert entry.output is not None and entry.output.decode() == json.loads(line)["body"]
    assert approved in entry.output.decode() and entry.entry.has_ai
    assert entry.ai is not None and entry.ai["signed_off_by"] == "sam@example.com"


def test_a_recipient_erased_after_the_send_is_not_archived_again(world: World) -> None:
    published(world)
    message_id = sent_unarchived(world)
    erase(world, message_id)  # nothing of theirs was archived yet: no key to destroy
    assert backfill(world) == 0 and entries(world) == {}
    skipped = [d for kind, d in events(world, message_id) if kind == "archive_skipped"]
    assert skipped == [{"reason": "recipient erased"}]
    assert backfill(world, later=timedelta(hours=1)) == 0
    assert len([k for k, _ in events(world, message_id) if k == "archive_skipped"]) == 1


def test_an_erasure_destroys_the_keys_and_wins_over_late_archiving(world: World) -> None:
    published(world)
    services = world.app.extensions["hcs"]
    first = send(world)
    build_worker(services.settings, services.sessions).run_once()  # archived as usual
    second = sent_unarchived_after(world, first)
    erase(world, second)
    assert backfill(world) == 0 and list(entries(world)) == [first]
    assert ("archive_skipped", {"reason": "recipient erased"}) in events(world, second)


def sent_unarchived_after(world: World, earlier: str) -> str:
    message_id = send(world)
    assert dispatch(world) == 1
    assert list(entries(world)) == [earlier]
    return message_id


def test_a_message_sent_after_an_erasure_is_archived_late(world: World) -> None:
    published(world)
    services = world.app.extensions["hcs"]
    first = send(world)
    build_worker(services.settings, services.sessions).run_once()
    erase(world, first)
    second = sent_unarchived_after(world, first)
    assert backfill(world) == 1
    assert opened(world, second).state == "readable"


def test_a_failed_archive_write_is_archived_late_after_a_pause(world: World) -> None:
    published(world)
    services = world.app.extensions["hcs"]
    message_id = send(world)

    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    worker = build_worker(services.settings, services.sessions)
    worker.on_sent = broken
    assert worker.run_once() == 1
    assert "archive_failed" in [kind for kind, _ in events(world, message_id)]
    assert backfill(world) == 0  # a failure is tried again after a pause, not every minute
    assert backfill(world, later=timedelta(minutes=11)) == 1
    assert list(entries(world)) == [message_id]


def test_one_message_that_cannot_be_archived_does_not_stop_the_others(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    published(world)
    broken = sent_unarchived(world)
    other = sent_unarchived(world, email="bo@example.com")
    with transaction(world.app.extensions["hcs"].sessions) as session:
        # Data its version's schema refuses: finishing it again fails.
        session.execute(update(Message).where(Message.id == broken).values(data={"x": "y"}))
    with caplog.at_level(logging.ERROR, logger="hcs.dispatch.backfill"):
        assert backfill(world) == 1
    assert list(entries(world)) == [other]
    [failed] = [d for kind, d in events(world, broken) if kind == "archive_failed"]
    [record] = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["message_id"] == broken and line["error"] == failed["reason"]
    assert "customer@example.com" not in json.dumps(line) and "A-1001" not in json.dumps(line)


def _wait_for_lock(world: World) -> None:
    """Until another connection waits on a lock (PostgreSQL) or a moment passes (SQLite)."""
    services = world.app.extensions["hcs"]
    if not services.settings.database_url.startswith("postgresql"):
        time.sleep(0.5)
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE '%archive_entries%'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with services.engine.connect() as connection:
            if connection.execute(waiting).scalar_one():
                return
        time.sleep(0.05)
    raise AssertionError("the late archiver never waited for the other entry")


def test_two_writers_at_once_make_one_entry(world: World) -> None:
    published(world)
    message_id = sent_unarchived(world)
    services = world.app.extensions["hcs"]
    providers, keys = build_providers(services.settings), archive.keyring(services.settings)
    written: list[int] = []
    late = threading.Thread(target=lambda: written.append(backfill(world)))
    with transaction(services.sessions) as session:
        # The dispatcher's own archive step, slow: its entry is written but not committed yet.
        message = session.get_one(Message, message_id)
        slot_text = signed_off_texts(session, message)
        archive_sent(session, message, finish(session, message, providers, slot_text), keys)
        late.start()
        _wait_for_lock(world)
    late.join(15)
    assert written == [0] and list(entries(world)) == [message_id]
    assert [k for k, _ in events(world, message_id) if k.startswith("archive")] == []


def test_the_late_archiver_runs_at_most_once_a_minute(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The archiver's own clock, moved by hand: a slow machine's seconds between two sends must
    # not decide whether a run was due (it once made a 1 s interval pass unseen).
    clock = [1000.0]
    monkeypatch.setattr(backfilling, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    published(world)
    services = world.app.extensions["hcs"]
    keys = archive.keyring(services.settings)
    providers = build_providers(services.settings)
    late = LateArchiver(services.sessions, providers, keys, grace=timedelta(0))
    assert late.seconds == 60
    first = sent_unarchived(world)
    assert late() == 1
    second = sent_unarchived_after(world, first)
    clock[0] += 59.9
    assert late() == 0 and list(entries(world)) == [first]
    clock[0] += 0.1
    assert late() == 1 and len(entries(world)) == 2
    assert second in entries(world)


def sent_at(world: World, message_id: str) -> Any:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return session.get_one(Message, message_id).sent_at


def test_later_looks_start_at_the_oldest_send_still_missing_its_entry(world: World) -> None:
    published(world)
    services = world.app.extensions["hcs"]
    keys, providers = archive.keyring(services.settings), build_providers(services.settings)
    late = LateArchiver(services.sessions, providers, keys, seconds=0, grace=timedelta(0))
    waiting = sent_unarchived(world)
    with transaction(services.sessions) as session:  # its late archiving failed a moment ago
        session.add(MessageEvent(message_id=waiting, kind="archive_failed", detail={}))
    assert late() == 0 and entries(world) == {}
    # The one waiting out its pause holds the watermark: it will be looked at again.
    assert late.since == sent_at(world, waiting)
    with transaction(services.sessions) as session:
        session.execute(
            update(MessageEvent)
            .where(MessageEvent.message_id == waiting, MessageEvent.kind == "archive_failed")
            .values(at=utcnow() - timedelta(minutes=11))
        )
    assert late() == 1 and list(entries(world)) == [waiting]
    # Nothing missing: the next look starts where this one ended, not at the first send.
    assert late.since is not None and late.since > sent_at(world, waiting)
    before = sent_unarchived_after(world, waiting)
    sent_long_ago(world, before)  # a send older than the watermark is not looked at again...
    assert late() == 0 and before not in entries(world)
    newer = sent_unarchived_after(world, waiting)
    assert late() == 1 and newer in entries(world)  # ...one after it is
    assert backfill(world) == 1 and before in entries(world)  # a full look still finds it


def test_the_in_process_worker_archives_what_was_missed(world: World) -> None:
    published(world)
    services = world.app.extensions["hcs"]
    message_id = sent_unarchived(world)
    sent_long_ago(world, message_id)
    worker = build_worker(services.settings, services.sessions)
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while not entries(world) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert list(entries(world)) == [message_id]


def test_the_celery_sweep_archives_what_was_missed(world: World) -> None:
    published(world)
    services = world.app.extensions["hcs"]
    message_id = sent_unarchived(world)
    sent_long_ago(world, message_id)
    celery = make_celery(dataclasses.replace(services.settings, broker_url="memory://"))
    try:
        assert sweep_once(celery) == 0
    finally:
        close_runtime()
    assert list(entries(world)) == [message_id]
    with transaction(services.sessions) as session:
        late = select(func.count()).where(MessageEvent.kind == "archived_late")
        assert session.scalar(late) == 1


def test_hcs_archive_backfill_archives_what_was_missed_now(world: World) -> None:
    published(world)
    message_id = sent_unarchived(world)
    sent_long_ago(world, message_id)
    settings = world.app.extensions["hcs"].settings
    env = {
        "HCS_DATABASE_URL": settings.database_url,
        "HCS_SECRET_KEY": settings.secret_key,
        "HCS_VAR_DIR": str(settings.var_dir),
    }
    done = CliRunner().invoke(main, ["archive", "backfill"], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "1 sent message archived late"
    assert list(entries(world)) == [message_id]
    assert opened(world, message_id).state == "readable"
    again = CliRunner().invoke(main, ["archive", "backfill"], env=env)
    assert again.output.strip() == "0 sent messages archived late"
