"""Run a job's work on a thread of the web process, recording its progress and its outcome.

The work is a function of a `JobContext`. It does its own transactions, keeps each one short and
reports progress between them; it finishes the job (`succeed`) in its last transaction. When
it raises, the runner marks the job failed with the error, so a job never stays "running".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from hcs import jobs
from hcs.errors import DomainError
from hcs.infrastructure.db import transaction
from templates_store.errors import ValidationFailed

log = logging.getLogger(__name__)

# Progress is written at most this often, so that reporting costs little.
REPORT_SECONDS = 0.25
# On SQLite every transaction takes the one write lock and the pages wait for it with a back-off
# of up to 100 ms: a job resting this long between its transactions lets them in.
SQLITE_REST_SECONDS = 0.12


@dataclass
class JobContext:
    """What a job's work gets: sessions of its own, its job's id, and progress reporting."""

    sessions: sessionmaker[Session]
    job_id: int
    _reported_at: float = field(default=0.0, repr=False)
    _step: str | None = field(default=None, repr=False)

    def report(self, done: int, *, step: str | None = None, now: bool = False) -> None:
        """Record progress in a transaction of its own: when `now`, at a new step, or when due."""
        moment = time.monotonic()
        new_step = step is not None and step != self._step
        if not (now or new_step or moment - self._reported_at >= REPORT_SECONDS):
            return
        with transaction(self.sessions) as session:
            jobs.advance(session, self.job_id, done, step=step)
        self._reported_at, self._step = moment, step if step is not None else self._step
        self.rest()

    def rest(self) -> None:
        """Between two transactions on SQLite, give the waiting pages their turn."""
        bind = self.sessions.kw.get("bind")
        if bind is not None and bind.dialect.name == "sqlite":
            time.sleep(SQLITE_REST_SECONDS)


Work = Callable[[JobContext], None]


class JobRunner:
    """Starts each job's work on a daemon thread of this process and keeps track of them."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def launch(self, job_id: int, work: Work) -> None:
        """Run `work` for the (committed) job `job_id` in the background."""
        thread = threading.Thread(
            target=self._run, args=(job_id, work), name=f"hcs-job-{job_id}", daemon=True
        )
        with self._lock:
            self._threads = {t for t in self._threads if t.is_alive()} | {thread}
        thread.start()

    def _run(self, job_id: int, work: Work) -> None:
        context = JobContext(self.sessions, job_id)
        try:
            context.report(0, step="Starting", now=True)
            work(context)
        except ValidationFailed as exc:
            self._fail(job_id, str(exc), {"errors": exc.errors})
        except DomainError as exc:
            self._fail(job_id, str(exc), {})
        except Exception as exc:  # a background thread has no caller: the job row is its voice
            log.exception("job %s failed", job_id)
            self._fail(job_id, f"an unexpected error stopped the job ({type(exc).__name__})", {})

    def _fail(self, job_id: int, error: str, result: dict[str, object]) -> None:
        with transaction(self.sessions) as session:
            jobs.fail(session, job_id, error, result=result)

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until every job of this runner has ended; False when some still run."""
        deadline = time.monotonic() + timeout
        with self._lock:
            running = list(self._threads)
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in running)
