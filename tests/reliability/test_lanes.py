"""Worker lanes: one queue per channel, so a slow channel never holds up another."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from channels.core import SendResult
from hcs.cli import main
from hcs.dispatch import rounds
from hcs.dispatch.providers import build_providers
from hcs.dispatch.rounds import round_size
from hcs.worker.lanes import LANES, parse_lanes
from hcs.worker.runtime import build_worker
from tests.reliability.workers import purge_redis_queue, wait_for
from tests.support.brokers import REDIS
from tests.support.chat import ChatPlatform, accept, statuses
from tests.support.flows import ORDER, published
from tests.support.world import World


class Stuck:
    """The real outlet, taking `seconds` over every send."""

    batch_size = 1  # one message a call, as SMTP and Twilio send

    def __init__(self, real: Any, seconds: float) -> None:
        self.real, self.seconds = real, seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send(self, prepared: Any) -> SendResult:
        time.sleep(self.seconds)
        return self.real.send(prepared)  # type: ignore[no-any-return]


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"hcs-lanes-{uuid.uuid4().hex[:10]}"
    yield name
    purge_redis_queue(REDIS, name)


def test_lanes_are_the_channel_registrys_names_and_anything_else_is_refused() -> None:
    assert LANES == ("email", "sms", "chat", "letter")
    assert parse_lanes("letter, email") == ("email", "letter")
    assert parse_lanes(None) == (*LANES, "ai")
    with pytest.raises(ValueError, match="no channel fax"):
        parse_lanes("email,fax")


def test_hcs_worker_refuses_an_unknown_queue_in_one_line_and_starts_nothing() -> None:
    result = CliRunner().invoke(main, ["worker", "--queues", "email,pigeon"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --queues: no channel pigeon; choose from email,sms,chat,letter,ai"
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_accepted_messages_are_queued_on_their_channels_own_celery_queue(
    make_sending_world: Callable[..., World], queue: str
) -> None:
    world = make_sending_world(broker_url=REDIS, celery_queue=queue)
    accept(world, 2 * round_size("chat") + 1)
    client = redis.Redis.from_url(REDIS)
    try:
        lengths = {name: client.llen(name) for name in (queue, f"{queue}.chat", f"{queue}.email")}
    finally:
        client.close()
    # A round's worth of chat to a task: two full tasks and one of a single entry, all on chat's
    # queue.
    assert lengths == {queue: 0, f"{queue}.chat": 3, f"{queue}.email": 0}


def test_a_worker_of_every_lane_claims_each_lanes_round_so_a_backlog_holds_up_no_other(
    make_sending_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rounds, "ROUND_SIZES", {"email": 3})
    monkeypatch.setattr(rounds, "ROUND_SIZE", 2)
    world = make_sending_world()
    published(world)
    emails = [world.as_("system").post("/messages", ORDER).get_json()["id"] for _ in range(5)]
    chats = accept(world, 3)  # due after every email
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    assert worker.run_once() == 5  # three emails and two chats, not the five oldest
    assert statuses(world, emails) == {"sent": 3, "accepted": 2}
    assert statuses(world, chats) == {"sent": 2, "accepted": 1}


def test_a_worker_of_one_lane_never_claims_another_lanes_messages(
    make_sending_world: Callable[..., World],
) -> None:
    world = make_sending_world()
    published(world)
    email = world.as_("system").post("/messages", ORDER).get_json()["id"]
    [chat] = accept(world, 1)
    services = world.app.extensions["hcs"]
    sms_only = build_worker(services.settings, services.sessions, ["sms"])
    chat_only = build_worker(services.settings, services.sessions, ["chat"])
    assert sms_only.run_once() == 0
    assert chat_only.run_once() == 1
    assert statuses(world, [email, chat]) == {"accepted": 1, "sent": 1}


def test_a_stuck_email_provider_does_not_delay_chat_on_its_own_lane(
    make_sending_world: Callable[..., World], chat_platform: ChatPlatform
) -> None:
    world = make_sending_world()
    published(world)
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    slow = replace(
        providers, outlets={**providers.outlets, "email": Stuck(providers.outlet("email"), 3)}
    )
    emails = [world.as_("system").post("/messages", ORDER).get_json()["id"] for _ in range(3)]
    lanes = [build_worker(services.settings, services.sessions, [lane], slow) for lane in LANES]
    for worker in lanes:
        worker.idle_seconds = 0.05
        worker.start()
    try:
        time.sleep(0.3)  # the email lane is now inside its first 3-second send
        started = time.monotonic()
        chats = accept(world, 5)
        for worker in lanes:
            worker.wake()
        wait_for(lambda: chat_platform.delivered() >= set(chats), 10, "5 chat messages")
        assert time.monotonic() - started < 2.5  # not behind the emails' 9 seconds
        assert statuses(world, emails)["sent"] <= 1
    finally:
        for worker in lanes:
            worker.stop(timeout=15)
