"""The rig of the fault matrix: HCS served for real, two Celery workers on a Redis of the rig's
own, the fake SendGrid reporting signed events back, and the tally of what reached it.

`tests/reliability/faults.py` runs the scenarios on it, small in `make test` and at the issue's
size in `make bench` (`tests/perf/test_faults_perf.py`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select

from hcs.infrastructure.delivery import read_delivery
from hcs.messages.models import Message, MessageEvent
from tests.reliability.workers import SOLO_WORKER, wait_for, worker_env
from tests.support.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.support.flows import published
from tests.support.sendgrid import PUBLIC_KEY
from tests.support.server import free_port, serving
from tests.support.world import World

# Where a message has arrived for good: a provider's report (`delivered`), or a failure.
SETTLED = {"delivered", "failed"}


@dataclass(frozen=True)
class Size:
    """How big a run is: messages, kill cycles, how long each fault lasts, the windows."""

    messages: int
    kills: int
    outage: float  # seconds the provider answers 5xx
    db_block: float  # seconds the database is blocked
    redis_down: float  # seconds the broker is gone
    throttle: float = 5.0  # seconds the provider answers 429
    retry_after: int = 3  # what its 429s ask for
    slow_answer: float = 2.5  # seconds a timed-out call takes (the client gives up after 1)
    slow_every: int = 4  # which calls time out: every n-th
    window: str = "3s"  # HCS_UNKNOWN_WINDOW
    lease: float = 3.0  # HCS_DISPATCH_LEASE_SECONDS
    settle: float = 90.0  # seconds every message has to settle once the fault is over


class RedisServer:
    """A redis-server of the rig's own (never the machine's shared one), killed at will."""

    def __init__(self, directory: Path) -> None:
        self.port, self.directory = free_port(), directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(argv, cwd=self.directory, stdout=log, stderr=log)
        wait_for(self._answers, 10, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Workers:
    """Two `hcs worker` Celery processes (solo pool), SIGKILLed and started again at will."""

    def __init__(self, env: dict[str, str], log: Path, count: int = 2) -> None:
        self.env, self.log, self.count = env, log, count
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.processes = [
                subprocess.Popen(
                    [sys.executable, "-c", SOLO_WORKER], env=self.env, stdout=out, stderr=out
                )
                for _ in range(self.count)
            ]

    def kill(self) -> None:
        """SIGKILL every worker: what they held is left mid-flight."""
        for process in self.processes:
            os.kill(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Rig:
    """Everything one scenario runs on."""

    world: World
    fake: FakeSendGrid
    redis: RedisServer
    workers: Workers
    size: Size
    ids: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def accept(self, count: int) -> list[str]:
        """The backend hands over `count` emails by the batch API; their ids."""
        start, system = len(self.ids), self.world.as_("system")
        batch = {
            "template": "order-confirmation",
            "channel": "email",
            "messages": [
                {
                    "to": {"email": f"customer{i}@example.com"},
                    "data": {"order_id": f"A-{i}", "first_name": "Ana"},
                }
                for i in range(start, start + count)
            ],
        }
        answer = system.post("/messages/batch", batch)
        assert answer.status_code == 202, answer.get_json()
        accepted = [str(m["id"]) for m in answer.get_json()["messages"]]
        self.ids += accepted
        return accepted

    def statuses(self) -> Counter[str]:
        with self.world.app.extensions["hcs"].sessions() as session:
            query = select(Message.status).where(Message.id.in_(self.ids))
            return Counter(str(status) for status in session.scalars(query))

    def settled(self) -> bool:
        return set(self.statuses()) <= SETTLED and self.fake.reporter_drained()

    def wait_settled(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.settled():
            if time.monotonic() > deadline:
                raise AssertionError(f"not settled after {seconds:.0f} s: {self.statuses()}")
            time.sleep(0.5)


def _delivery(fake: FakeSendGrid, timeout: float) -> dict[str, str]:
    return {
        "HCS_EMAIL_PROVIDER": "sendgrid",
        "SENDGRID_API_KEY": "SG.fault-matrix",
        "HCS_SENDGRID_HOST": fake.url,
        "HCS_SENDGRID_TIMEOUT": str(timeout),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": PUBLIC_KEY,
    }


def _worker_env(world: World, delivery: dict[str, str], size: Size) -> dict[str, str]:
    settings = world.app.extensions["hcs"].settings
    return worker_env(
        {
            **delivery,
            "HCS_DATABASE_URL": settings.database_url,
            "HCS_SECRET_KEY": settings.secret_key,
            "HCS_VAR_DIR": str(settings.var_dir),
            "HCS_BROKER_URL": settings.broker_url,
            "HCS_CELERY_QUEUE": settings.celery_queue,
            "HCS_ALLOWED_PRIVATE_DESTINATIONS": "127.0.0.1",
            "HCS_DISPATCH_LEASE_SECONDS": str(size.lease),
            "HCS_SWEEP_SECONDS": "1",
            "HCS_BROKER_VISIBILITY_TIMEOUT": "30",
            "HCS_UNKNOWN_WINDOW": size.window,
        }
    )


@contextmanager
def rig(
    make_world: Callable[..., World], directory: Path, size: Size, *, timeout: float = 5.0
) -> Iterator[Rig]:
    """HCS served on loopback, the fake SendGrid reporting to it, Redis and two idle workers."""
    redis = RedisServer(directory)
    redis.start()
    with ExitStack() as stack:
        stack.callback(redis.kill)
        # Thousands of loopback requests: their access log would drown the table.
        quiet = logging.getLogger("werkzeug")
        stack.callback(quiet.setLevel, quiet.level)
        quiet.setLevel(logging.WARNING)
        # The fake's address is only known once it listens, HCS's once the app is served.
        fake = stack.enter_context(fake_sendgrid())
        delivery = _delivery(fake, timeout)
        world = make_world(
            delivery=read_delivery(delivery),
            broker_url=redis.url,
            celery_queue=f"faults-{uuid.uuid4().hex[:8]}",
            dispatch_lease_seconds=size.lease,
        )
        published(world)
        fake.report_to(f"{stack.enter_context(serving(world.app))}/webhooks/sendgrid")
        stack.callback(fake.stop_reporting)
        workers = Workers(_worker_env(world, delivery, size), directory / "workers.log")
        stack.callback(workers.stop)
        yield Rig(world, fake, redis, workers, size)


@dataclass
class Tally:
    """One row of the matrix: what was accepted, what reached the provider, how it ended."""

    scenario: str
    accepted: int
    once: int
    twice: int
    lost: int
    statuses: Counter[str]
    marked: set[str]  # messages marked `possible_duplicate`
    unmarked: set[str]  # reached the provider twice or more, never marked
    marked_once: int  # marked, yet the provider took it once (it was never handed over)
    unreasoned: int  # failed without a reason
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict)


def tally(rig: Rig, scenario: str) -> Tally:
    """Count what the fake took against what HCS says happened."""
    copies, statuses = rig.fake.copies(), rig.statuses()
    with rig.world.app.extensions["hcs"].sessions() as session:
        marked = set(
            session.scalars(
                select(MessageEvent.message_id).where(
                    MessageEvent.message_id.in_(rig.ids), MessageEvent.kind == "possible_duplicate"
                )
            )
        )
        failed = session.execute(
            select(Message.id, Message.reason).where(
                Message.id.in_(rig.ids), Message.status == "failed"
            )
        ).all()
    twice = {i for i in rig.ids if copies[i] > 1}
    reasons = {message_id: reason for message_id, reason in failed}
    return Tally(
        scenario=scenario,
        accepted=len(rig.ids),
        once=sum(1 for i in rig.ids if copies[i] == 1),
        twice=len(twice),
        lost=sum(1 for i in rig.ids if copies[i] == 0 and i not in reasons),
        statuses=statuses,
        marked=marked,
        unmarked=twice - marked,
        marked_once=len(marked - twice),
        unreasoned=sum(1 for reason in reasons.values() if not reason),
        seconds=time.monotonic() - rig.started,
    )
