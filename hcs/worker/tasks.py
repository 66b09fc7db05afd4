"""Celery: the dispatch tasks on Redis or RabbitMQ and what each worker process holds.

The API enqueues `dispatch_entry` tasks, a few entries each, after its commit (`celery_init_app`
sets the app's `hcs.dispatcher`). Tasks acknowledge late and are requeued when their worker dies;
the outbox lease taken by `queueing.take` makes a second copy of a task send nothing. The
worker process itself and its sweep thread are `hcs.worker.sweeping`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from celery import Celery, shared_task
from celery.signals import worker_process_shutdown, worker_shutdown
from flask import Flask
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hcs import archive
from hcs.channels.letter import close_renderers
from hcs.dispatch import callbacks, queueing
from hcs.dispatch.generating import GENERATING, Generate, generate_entry, hold
from hcs.dispatch.lookups import ProviderLookups
from hcs.dispatch.preparing import Waiting
from hcs.dispatch.providers import Providers
from hcs.dispatch.rounds import Outcome, SentHook, SharedSession, round_size
from hcs.errors import DispatchUnavailable
from hcs.infrastructure.config import Settings, pool
from hcs.infrastructure.db import make_engine, session_factory
from hcs.messages.status import MessageStatus
from hcs.worker.lanes import by_lane, queue_for
from hcs.worker.runtime import build_worker, worker_name

log = logging.getLogger(__name__)
DISPATCH = "hcs.worker.tasks.dispatch_entry"
CALLBACKS = "hcs.worker.tasks.deliver_callbacks"
# AI text generation runs on its own queue (`HCS_CELERY_AI_QUEUE`, default `ai`).
GENERATE = "hcs.worker.tasks.generate_signoff"


def make_celery(settings: Settings) -> Celery:
    """A Celery app for `settings`: late acknowledgement, one task at a time per process."""
    celery = Celery("hcs", broker=settings.broker_url, set_as_current=False)
    celery.conf.update(
        task_default_queue=settings.celery_queue,
        task_routes={GENERATE: {"queue": settings.celery_ai_queue}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        # A broker that is down must not hold an API request for long: the sweep catches up.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        hcs_settings=settings,
    )
    return celery


def celery_init_app(app: Flask) -> Celery:
    """Wire Celery into the Flask app: accepted messages are enqueued after the commit."""
    services = app.extensions["hcs"]
    celery = make_celery(services.settings)
    app.extensions["celery"] = celery
    lease = timedelta(seconds=services.settings.dispatch_lease_seconds)
    app.extensions["hcs.dispatcher"] = partial(enqueue, celery, services.sessions, lease)
    return celery


def enqueue(
    celery: Celery, sessions: sessionmaker[Session], lease: timedelta, message_ids: Sequence[str]
) -> int:
    """Queue the open outbox entries of these messages; a broker failure is left to the sweep."""
    with sessions.begin() as session:
        entry_ids = queueing.hand_to_queue(session, message_ids, lease=lease)
        lanes = by_lane(session, entry_ids)
    return publish(celery, lanes)


def publish(celery: Celery, lanes: Mapping[str, Sequence[int]], **options: Any) -> int:
    """Queue entries on their lanes' queues, over one connection; how many went out.

    A task carries one round's worth of one lane (`round_size`), as the in-process worker
    claims, while a large batch still spreads over every worker process.
    """
    task, settings = celery.tasks[DISPATCH], celery.conf.hcs_settings
    try:
        with celery.producer_or_acquire() as producer:
            for lane, entry_ids in lanes.items():
                queue = queue_for(settings, lane)
                size = round_size(lane)
                for start in range(0, len(entry_ids), size):
                    chunk = list(entry_ids[start : start + size])
                    task.apply_async((chunk,), producer=producer, queue=queue, **options)
    except (BrokerError, OSError) as exc:
        log.warning("broker unreachable; the sweep will queue these", extra={"error": str(exc)})
        return 0
    return sum(len(entry_ids) for entry_ids in lanes.values())


def broker_problem(celery: Celery) -> str | None:
    """None when the broker accepts a connection, else what went wrong (for /healthz)."""
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except (BrokerError, OSError) as exc:
        return type(exc).__name__
    return None


@dataclass
class Runtime:
    """What one worker process holds: its engine, sessions and providers."""

    pid: int
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    providers: Providers
    on_sent: SentHook | None
    # Archives sent messages whose entry is missing, at most about once a minute.
    archive_late: Callable[[], int] | None = None
    # One session for every task of this process: versions and closures are read once.
    shared: SharedSession | None = None
    # Asks providers about `unknown` sends in the sweep's housekeeping.
    lookups: ProviderLookups | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.dispatch_lease_seconds)

    def transactions(self) -> SharedSession:
        if self.shared is None:
            self.shared = SharedSession(self.sessions)
        return self.shared

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
        self.engine.dispose()
        close_renderers()


_runtime: Runtime | None = None


def runtime(settings: Settings) -> Runtime:
    """This process's runtime, built on first use (after a fork, built again)."""
    global _runtime
    if _runtime is not None and _runtime.pid != os.getpid():
        _runtime.engine.dispose(close=False)  # the parent's connections stay the parent's
        _runtime = None
    if _runtime is None:
        # A process runs one task at a time: a small pool, not one that grows with the host.
        engine = make_engine(settings.database_url, **pool(settings, 3, 2))
        sessions = session_factory(engine)
        # The in-process worker's providers and after-send step (the archive), reused as they are.
        worker = build_worker(settings, sessions)
        _runtime = Runtime(
            os.getpid(),
            settings,
            engine,
            sessions,
            worker.providers,
            worker.on_sent,
            worker.archive_late,
            lookups=worker.lookups,
        )
    return _runtime


@worker_process_shutdown.connect
@worker_shutdown.connect
def close_runtime(**_: Any) -> None:
    """Dispose of the engine and stop renderers when a worker process ends."""
    global _runtime
    if _runtime is not None and _runtime.pid == os.getpid():
        _runtime.close()
    _runtime = None


@shared_task(bind=True, name=DISPATCH, acks_late=True, reject_on_worker_lost=True)
def dispatch_entry(self: Any, entry_ids: int | list[int]) -> str:
    """Send a few outbox entries; one that failed for now comes back at its retry time.

    A single id is accepted too: tasks queued before tasks carried several.
    """
    ids = [entry_ids] if isinstance(entry_ids, int) else [int(i) for i in entry_ids]
    rt = runtime(self.app.conf.hcs_settings)
    try:
        outcomes = _dispatch(rt, ids, partial(hand_to_ai_queue, self.app))
    except SQLAlchemyError as exc:  # its text may quote parameters: report the kind only
        raise DispatchUnavailable(type(exc).__name__) from None
    if any(outcome.status == MessageStatus.QUEUED for outcome in outcomes):
        with rt.sessions.begin() as session:
            delays = queueing.requeue_retries(session, ids, lease=rt.lease)
            lanes = by_lane(session, list(delays))
        for lane, entry_ids in lanes.items():
            for entry_id in entry_ids:
                publish(self.app, {lane: [entry_id]}, countdown=delays[entry_id])
    return ", ".join(outcome.status for outcome in outcomes) or "skipped"


@shared_task(bind=True, name=CALLBACKS, acks_late=True, reject_on_worker_lost=True)
def deliver_callbacks(self: Any, delivery_ids: list[int]) -> int:
    """Deliver a few status callbacks the sweep queued; how many were tried."""
    rt = runtime(self.app.conf.hcs_settings)
    options = callbacks.CallbackOptions.of(rt.settings)
    keys = archive.keyring(rt.settings)
    ids = [int(i) for i in delivery_ids]
    return callbacks.deliver_due(rt.sessions, keys, options, owner=worker_name(), ids=ids)


def publish_callbacks(celery: Celery, delivery_ids: Sequence[int]) -> int:
    """Queue callback deliveries, a few to a task; a broker failure is left to the next sweep."""
    task = celery.tasks[CALLBACKS]
    try:
        with celery.producer_or_acquire() as producer:
            for start in range(0, len(delivery_ids), 5):
                task.apply_async((list(delivery_ids[start : start + 5]),), producer=producer)
    except (BrokerError, OSError) as exc:
        log.warning("broker unreachable; callbacks wait", extra={"error": str(exc)})
        return 0
    return len(delivery_ids)


def _dispatch(rt: Runtime, entry_ids: list[int], generate: Generate) -> list[Outcome]:
    return queueing.dispatch(
        rt.transactions(),
        entry_ids,
        rt.providers,
        owner=worker_name(),
        lease=rt.lease,
        on_sent=rt.on_sent,
        generate=generate,
    )


def hand_to_ai_queue(celery: Celery, waiting: Waiting) -> Outcome:
    """Queue a message's generation on the AI queue; the dispatch task goes on at once.

    The entry stays leased while it waits there (the sweep does not queue it again); a broker
    failure, or a generation lost, leaves it to the sweep when that lease ends.
    """
    hold(runtime(celery.conf.hcs_settings).sessions, waiting.entry_id)
    try:
        celery.tasks[GENERATE].apply_async((waiting.entry_id,))
    except (BrokerError, OSError) as exc:
        log.warning("broker unreachable; generation waits for the sweep", extra={"error": str(exc)})
    return Outcome(waiting.needs.message_id, GENERATING, "handed to the AI queue")


@shared_task(bind=True, name=GENERATE, acks_late=True, reject_on_worker_lost=True)
def generate_signoff(self: Any, entry_id: int) -> str:
    """Generate the AI text of one outbox entry's message and queue it for sign-off."""
    rt = runtime(self.app.conf.hcs_settings)
    try:
        outcome = generate_entry(rt.sessions, int(entry_id), rt.providers)
    except SQLAlchemyError as exc:  # its text may quote parameters: report the kind only
        raise DispatchUnavailable(type(exc).__name__) from None
    return outcome.status if outcome is not None else "skipped"
