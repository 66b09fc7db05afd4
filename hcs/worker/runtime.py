"""The in-process worker: the same dispatch a Celery worker runs, on a thread of `hcs run`.

Besides sending, it does the periodic work that must stay off the request path: sealing new
audit entries into the hash chain, forgetting expired idempotency keys, and (about once a
minute) archiving sent messages whose archive entry was never written (`hcs.dispatch.backfill`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

import hcs.schema  # noqa: F401  (every table mapped before the first query)
from hcs import archive
from hcs.audit import AuditEntry
from hcs.channels.letter import close_renderers
from hcs.dispatch import heartbeat, leases
from hcs.dispatch.archiving import archive_round
from hcs.dispatch.backfill import LateArchiver
from hcs.dispatch.callbacks import CallbackOptions, deliver_due, forget_finished
from hcs.dispatch.lookups import ProviderLookups
from hcs.dispatch.providers import Providers, build_providers
from hcs.dispatch.rounds import SentHook, SharedSession, run_due
from hcs.infrastructure.config import Settings
from hcs.infrastructure.statistics import analyse_grown
from hcs.messages import idempotency
from hcs.messages.parking import settle_parked
from hcs.sealing import seal_pending
from hcs.sealing.witness import Checkpointing, checkpointing, publish_checkpoint, sign_logs
from hcs.signoffs.queue import expire as expire_signoffs
from hcs.worker.lane import AILane

log = logging.getLogger(__name__)
# How long the housekeeping lease outlives its holder's last renewal: a worker that died is
# replaced within this.
HOUSEKEEPING_LEASE = timedelta(seconds=30)


def worker_name() -> str:
    """Who holds a lease: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def process_name() -> str:
    """Who beats for a worker process: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def housekeeping(
    sessions: sessionmaker[Session],
    keys: archive.Keyring | None = None,
    signing: Checkpointing | None = None,
    *,
    owner: str | None = None,
    ttl: timedelta = HOUSEKEEPING_LEASE,
    lookups: ProviderLookups | None = None,
) -> bool:
    """Seal the logs, expire stale sign-offs, forget old idempotency keys and callbacks, and
    keep PostgreSQL's planner statistics current (`hcs.infrastructure.statistics`).

    Provider reports parked while their `sent` was being committed are applied too (their
    archive events encrypted under `keys`), and those no `sent` claimed in time are dropped.
    With `lookups`, providers are asked about a few `unknown` messages (`hcs.dispatch.lookups`).
    With `signing`, each log's new head is signed and sent to the witness once committed.
    Only the worker holding the `housekeeping` lease (`owner`, this thread by default) does it;
    the others return false at once, and take over when the holder stops renewing it. Each
    chore renews the lease in its own transaction first (row-locked until that commits), so a
    run longer than the lease never overlaps another worker's: a holder that lost the lease
    between two chores stops there, and answers false.
    """
    holding = _Holding(sessions, owner or worker_name(), ttl)
    try:
        with holding() as session:
            seal_pending(session, AuditEntry)
            audit_head = sign_logs(session, [AuditEntry], signing)
        publish_checkpoint(signing, audit_head)
        with holding() as session:
            settle_parked(session, keys=keys)
        with holding() as session:
            archive.seal_archive(session)
            archive_head = sign_logs(session, archive.SIGNED_LOGS, signing)
        publish_checkpoint(signing, archive_head)
        for chore in (expire_signoffs, idempotency.purge, forget_finished, analyse_grown):
            with holding() as session:
                chore(session)
    except _LeaseLost:
        return False
    if lookups is not None:  # last: its provider calls never hold up the chores above
        lookups.run(sessions)
    return True


class _LeaseLost(Exception):
    """Another worker holds the housekeeping lease now."""


@dataclass(frozen=True)
class _Holding:
    """Transactions that each begin by renewing the housekeeping lease, or raise `_LeaseLost`."""

    sessions: sessionmaker[Session]
    owner: str
    ttl: timedelta

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            if not leases.hold(session, leases.HOUSEKEEPING, owner=self.owner, ttl=self.ttl):
                raise _LeaseLost
            yield session


class Worker:
    """Dispatches due messages until stopped; sleeps briefly when there is nothing to do."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        providers: Providers,
        *,
        on_sent: SentHook | None = None,
        idle_seconds: float = 0.5,
        housekeeping_seconds: float = 5.0,
        keys: archive.Keyring | None = None,
        archive_late: Callable[[], int] | None = None,
        signing: Checkpointing | None = None,
        callbacks: Callable[[], int] | None = None,
        ai_lane: AILane | None = None,
        channels: Sequence[str] | None = None,
        lookups: ProviderLookups | None = None,
    ) -> None:
        self.sessions, self.providers, self.on_sent = sessions, providers, on_sent
        self.channels = None if channels is None else tuple(channels)  # its lanes; None: all
        self.callbacks = callbacks
        # Without a lane (tests, scripts) a round generates AI text itself, waiting for it.
        self.ai_lane = ai_lane
        self.keys, self.archive_late, self.signing = keys, archive_late, signing
        self.lookups = lookups  # asks providers about `unknown` sends (housekeeping)
        self.idle_seconds, self.housekeeping_seconds = idle_seconds, housekeeping_seconds
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._callback_thread: threading.Thread | None = None
        # Every round on one session: the versions it sends are read once (`SharedSession`).
        self._shared: SharedSession | None = None

    def run_once(self) -> int:
        """Send what is due now; how many entries were handled."""
        generate = self.ai_lane.submit if self.ai_lane is not None else None
        if self._shared is None:
            self._shared = SharedSession(self.sessions)
        handled = run_due(
            self._shared,
            self.providers,
            owner=worker_name(),
            on_sent=self.on_sent,
            generate=generate,
            lease=timedelta(seconds=self.providers.settings.dispatch_lease_seconds),
            channels=self.channels,
        )
        return len(handled)

    def run(self) -> None:
        """Loop until `stop()`; a failing round is logged and retried, never fatal.

        Status callbacks go out meanwhile from a thread of their own (`run_callbacks`).
        """
        self._start_callbacks()
        last_housekeeping = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() - last_housekeeping > self.housekeeping_seconds:
                    self.beat()
                    kept = housekeeping(
                        self.sessions, self.keys, self.signing, lookups=self.lookups
                    )
                    last_housekeeping = time.monotonic()
                    if kept and self.archive_late is not None:  # about once a minute
                        self.archive_late()
                handled = self.run_once()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("dispatch round failed; retrying")
                handled = 0
            if not handled:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        close_renderers()

    def _start_callbacks(self) -> None:
        if self.callbacks is not None and self._callback_thread is None:
            self._callback_thread = threading.Thread(
                target=self.run_callbacks, name="hcs-callbacks", daemon=True
            )
            self._callback_thread.start()

    def run_callbacks(self) -> None:
        """Deliver status callbacks until stopped: a thread of its own, as endpoints may be slow."""
        while self.callbacks is not None and not self.stopping.is_set():
            try:
                delivered = self.callbacks()
            except Exception:  # a database hiccup must not end the deliveries
                log.exception("callback round failed; retrying")
                delivered = 0
            if not delivered:
                self.stopping.wait(self.idle_seconds)

    def beat(self) -> None:
        """Tell `/readyz` this worker is alive."""
        with self.sessions.begin() as session:
            heartbeat.beat(session, process_name())

    def wake(self, message_ids: object = None) -> None:
        """New work was accepted: stop idling now."""
        self._wake.set()

    def start(self) -> threading.Thread:
        """Run on a daemon thread."""
        lanes = ",".join(self.channels or ("all",))
        self._thread = threading.Thread(target=self.run, name=f"hcs-worker-{lanes}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to finish its round and wait for it."""
        self.stopping.set()
        self._wake.set()
        for thread in (self._thread, self._callback_thread):
            if thread is not None:
                thread.join(timeout)
        if self.ai_lane is not None:
            self.ai_lane.close()


def build_worker(
    settings: Settings,
    sessions: sessionmaker[Session],
    channels: Sequence[str] | None = None,
    providers: Providers | None = None,
) -> Worker:
    """A worker sending through the configured providers, archiving what it sends."""
    keys, providers = archive.keyring(settings), providers or build_providers(settings)
    options = CallbackOptions.of(settings)
    return Worker(
        sessions,
        providers,
        on_sent=lambda session, sent: archive_round(session, sent, keys),
        keys=keys,
        archive_late=LateArchiver(sessions, providers, keys),
        signing=checkpointing(settings),
        callbacks=lambda: deliver_due(sessions, keys, options, owner=worker_name()),
        ai_lane=AILane(sessions, settings.ai_concurrency),
        channels=channels,
        lookups=ProviderLookups(providers, keys, per_round=settings.unknown_lookups),
    )


class Lanes:
    """`hcs worker --queues ... --concurrency N` without a broker: N threads per lane, and the
    in-process worker of `hcs run` (one thread per lane).

    Each thread claims only its lane's entries, so a slow channel (a letter's PDF, a provider
    that takes seconds) keeps only its own lane busy. They share one set of providers; status
    callbacks go out from the first thread's worker only.
    """

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        lanes: Sequence[str],
        concurrency: int = 1,
        providers: Providers | None = None,
    ) -> None:
        providers = providers or build_providers(settings)
        self.workers = [
            build_worker(settings, sessions, [lane], providers)
            for lane in lanes
            for _ in range(concurrency)
        ]
        for worker in self.workers[1:]:
            worker.callbacks = None

    def start(self) -> None:
        """Start every lane's threads."""
        for worker in self.workers:
            worker.start()

    def wake(self, message_ids: object = None) -> None:
        """New work was accepted: every lane stops idling (each claims only its own)."""
        for worker in self.workers:
            worker.wake()

    def run(self) -> None:
        """Run every lane's threads until interrupted, then stop them."""
        self.start()
        try:
            while any(w._thread is not None and w._thread.is_alive() for w in self.workers):
                time.sleep(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
