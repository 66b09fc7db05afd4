"""The in-process worker's AI lane: a few threads that generate slot texts beside the rounds."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from hcs.dispatch.generating import GENERATING, generate_now, hold
from hcs.dispatch.preparing import Waiting
from hcs.dispatch.transitions import Outcome

log = logging.getLogger(__name__)


class AILane:
    """At most `concurrency` generations at once; a message already in the lane is not added."""

    def __init__(self, sessions: sessionmaker[Session], concurrency: int) -> None:
        self.sessions = sessions
        self._pool = ThreadPoolExecutor(max(concurrency, 1), thread_name_prefix="hcs-ai")
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, waiting: Waiting) -> Outcome:
        """Queue a message's generation and return at once."""
        message_id = waiting.needs.message_id
        hold(self.sessions, waiting.entry_id)
        with self._lock:
            if message_id in self._busy:
                return Outcome(message_id, GENERATING, "already on the AI lane")
            self._busy.add(message_id)
        self._pool.submit(self._run, waiting)
        return Outcome(message_id, GENERATING, "handed to the AI lane")

    def _run(self, waiting: Waiting) -> None:
        try:
            generate_now(self.sessions, waiting)
        except Exception:  # the entry keeps its lease; a later round hands it over again
            log.exception("generating AI text failed for %s", waiting.needs.message_id)
        finally:
            with self._lock:
                self._busy.discard(waiting.needs.message_id)

    def in_lane(self) -> int:
        """How many messages are generating or waiting for a thread."""
        with self._lock:
            return len(self._busy)

    def close(self) -> None:
        """Stop taking work; generations under way finish on their own threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
