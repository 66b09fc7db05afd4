"""`hcs worker` with a broker: the Celery worker on its lanes' queues, and its sweep thread.

The sweep queues again what is due and held by nobody (a task lost with the broker, an entry
whose enqueue failed after the API's commit), does the periodic housekeeping under its lock,
and archives sent messages whose entry was never written. Any worker's sweep serves the fleet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

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
) -> None:
    """`hcs worker` with a broker: a Celery worker on its lanes' queues, and its sweeper.

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
    celery.worker_main([*argv, *options])
