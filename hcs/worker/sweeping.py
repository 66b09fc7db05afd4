"""`hcs worker` with a broker: the Celery worker on its lanes' queues, and its sweep thread.

The sweep queues again what is due and held by nobody (a task lost with the broker, an entry
whose enqueue failed after the API's commit), does the periodic housekeeping under its lock,
and archives sent messages whose entry was never written. Any worker's sweep serves the fleet.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.platforms import EX_FAILURE
from celery.signals import worker_ready, worker_shutdown, worker_shutting_down

from hcs import archive
from hcs.dispatch import callbacks, heartbeat, queueing
from hcs.infrastructure.config import Settings
from hcs.infrastructure.logs import configure_logging
from hcs.sealing.witness import checkpointing
from hcs.worker.lanes import LANES, by_lane, queues_for
from hcs.worker.runtime import housekeeping, process_name
from hcs.worker.tasks import make_celery, publish, publish_callbacks, runtime

log = logging.getLogger(__name__)


def sweep_once(celery: Celery) -> int:
    """Queue what is due and held by nobody, then seal, purge and archive what was missed.

    :returns: how many entries were queued.
    """
    rt = runtime(celery.conf.hcs_settings)
    with rt.sessions.begin() as session:
        heartbeat.beat(session, process_name())
        ids = queueing.sweep(session, lease=rt.lease)
        lanes = by_lane(session, ids)
    published = publish(celery, lanes)
    with rt.sessions.begin() as session:
        owed = callbacks.hand_to_queue(
            session, lease=callbacks.CallbackOptions.of(rt.settings).lease
        )
    publish_callbacks(celery, owed)
    keys, signing = archive.keyring(rt.settings), checkpointing(rt.settings)
    kept = housekeeping(rt.sessions, keys, signing, lookups=rt.lookups)
    if kept and rt.archive_late is not None:  # throttled to about once a minute per process
        rt.archive_late()
    return published


class Sweeper:
    """A thread in the worker's main process that runs `sweep_once` every few seconds."""

    def __init__(self, celery: Celery, seconds: float) -> None:
        self.celery, self.seconds = celery, seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.seconds):
            try:
                if queued := sweep_once(self.celery):
                    log.info("sweep queued entries", extra={"count": queued})
            except Exception:  # a database or broker outage must not end the sweeping
                log.exception("sweep failed; trying again")

    def start(self, **_: Any) -> None:
        threading.Thread(target=self.run, name="hcs-sweep", daemon=True).start()

    def stop(self, **_: Any) -> None:
        self.stopping.set()


def run_celery_worker(
    settings: Settings,
    *options: str,
    lanes: Sequence[str] = LANES,
    concurrency: int | None = None,
) -> int:
    """`hcs worker` with a broker: a Celery worker on its lanes' queues, and its sweeper; its
    exit code once asked to stop. Ended by an error of its own, it starts again (`start_again`).

    The sweep queues due entries of every lane, so any worker's sweep serves the fleet.
    """
    configure_logging()
    celery = make_celery(settings)
    sweeper = Sweeper(celery, settings.sweep_seconds)
    worker_ready.connect(sweeper.start, weak=False)
    worker_shutdown.connect(sweeper.stop, weak=False)
    # Every lane by default: the channels' queues and the AI queue (README, "AI lane").
    queues = f"--queues={','.join(queues_for(settings, lanes))}"
    argv = ["worker", queues, "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    asked = AskedToStop()
    worker_shutting_down.connect(asked.note, weak=False)
    # `start`, not `worker_main`, which drops the worker's exit code.
    code = celery.start([*argv, *options])
    # Celery's own failure only: a usage error (2) would fail the same way again, for ever.
    if code == EX_FAILURE and not asked.asked:
        start_again()
    return int(code or 0)


# Seconds before a worker that ended on an error starts again.
RESTART_PAUSE_S = 2.0


class AskedToStop:
    """Whether the worker was asked to stop (SIGTERM, SIGINT, SIGQUIT), not ended by an error."""

    def __init__(self) -> None:
        self.asked = False

    def note(self, **_: Any) -> None:
        self.asked = True


def start_again() -> None:
    """Start this process again in place, after `RESTART_PAUSE_S`: same pid, fresh state.

    A Celery worker ends on an error of its own when its consumer raises one it does not expect
    ("Unrecoverable error"). kombu 5.7's Redis transport raises one while closing a channel whose
    connection a broker outage has just dropped (`AttributeError` on the connection's host), and
    the worker left its queues for good: the outbox kept every message, but nothing sent them.
    Started again, it reconnects once the broker is back, and its sweep queues what is due. The
    process stays the one a supervisor (or a test) started and may signal.
    """
    log.error("the worker ended on an error; starting it again in %.0f s", RESTART_PAUSE_S)
    time.sleep(RESTART_PAUSE_S)
    os.execv(sys.executable, sys.orig_argv)
