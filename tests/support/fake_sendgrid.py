"""A fake SendGrid on 127.0.0.1: takes `POST /v3/mail/send`, counts every copy it took by HCS's
reference (`custom_args.hcs_reference`, de-duplicating nothing), answers as its script says, and
reports what it took back to HCS's `POST /webhooks/sendgrid` in signed event batches, as
SendGrid does (`processed`, then `delivered`).

A message is taken when its answer is a 2xx, whether or not the client is still there to read
it: a client that timed out, or a worker killed while the answer was held, leaves a copy here.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response
from werkzeug.serving import make_server

from tests.support.sendgrid import signed

SEND = "/v3/mail/send"


@dataclass(frozen=True)
class Answer:
    """What the fake does with one request: wait `delay` s, then answer `status`."""

    status: int = 202
    delay: float = 0.0
    retry_after: str | None = None

    @property
    def takes(self) -> bool:
        return 200 <= self.status < 300


# The n-th request (from 1) and the references it carries → what to answer.
Script = Callable[[int, list[str]], Answer]


def references(body: dict[str, Any]) -> list[str]:
    """HCS's references in a mail-send body: per personalization, else the message's own."""
    top = (body.get("custom_args") or {}).get("hcs_reference")
    found = [
        str(p.get("custom_args", {}).get("hcs_reference") or top)
        for p in body.get("personalizations", [])
    ]
    return [r for r in found if r != "None"] or ([str(top)] if top else [])


class Hold:
    """Holds the answer to the request carrying the `at`-th message taken, until released."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.arrived, self.released = threading.Event(), threading.Event()
        self.references: list[str] = []

    def release(self) -> None:
        self.released.set()


@dataclass
class Reporter:
    """Posts signed event batches to `url`, retrying while HCS does not answer 2xx."""

    url: str
    delay: float = 0.3
    batch: int = 200
    pending: queue.Queue[tuple[float, dict[str, Any]]] = field(default_factory=queue.Queue)
    posted: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def report(self, reference: str, sg_id: str, email: str) -> None:
        """Queue `processed` and `delivered` for one message SendGrid took."""
        due = time.monotonic() + self.delay
        for kind in ("processed", "delivered"):
            event = {
                "event": kind,
                "email": email,
                "timestamp": int(time.time()),
                "sg_event_id": uuid.uuid4().hex,
                "sg_message_id": f"{sg_id}.filterdrecv-1-2026",
                "hcs_reference": reference,
            }
            self.pending.put((due, event))

    busy: bool = False

    def run(self) -> None:
        while not self.stopping.is_set():
            events = self._next_batch()
            if events:
                self._post(events)
            self.busy = False

    def _next_batch(self) -> list[dict[str, Any]]:
        try:
            due, first = self.pending.get(timeout=0.1)
        except queue.Empty:
            return []
        self.busy = True
        time.sleep(max(0.0, due - time.monotonic()))
        events = [first]
        while len(events) < self.batch:
            try:
                events.append(self.pending.get_nowait()[1])
            except queue.Empty:
                break
        return events

    def _post(self, events: list[dict[str, Any]]) -> None:
        """POST one batch until HCS takes it (SendGrid retries for a day), or we are stopped."""
        while True:
            body = json.dumps(events).encode()
            headers = {"Content-Type": "application/json", **signed(body)}
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    if 200 <= answer.status < 300:
                        self.posted += len(events)
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.stopping.wait(0.5):
                return

    def drained(self) -> bool:
        """Whether every event queued so far was posted and taken."""
        return self.pending.empty() and not self.busy


class FakeSendGrid:
    """The fake's state: what it took and how often, its script, its holds and its reporter."""

    def __init__(self) -> None:
        self.reporter: Reporter | None = None
        self.reporting: threading.Thread | None = None
        self.taken: Counter[str] = Counter()
        self.requests = 0
        self.script: Script = lambda n, refs: Answer()
        self.holds: list[Hold] = []
        self.every_hold: list[Hold] = []
        # Per reference, when each request carrying it came and what it was answered.
        self.timeline: dict[str, list[tuple[float, int]]] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.url = ""

    def report_to(self, webhook_url: str, *, delay: float = 0.3) -> None:
        """From now on, report what is taken to `webhook_url` in signed event batches."""
        self.reporter = Reporter(webhook_url, delay=delay)
        self.reporting = threading.Thread(target=self.reporter.run, daemon=True)
        self.reporting.start()

    def stop_reporting(self) -> None:
        if self.reporter is not None and self.reporting is not None:
            self.reporter.stopping.set()
            self.reporting.join(timeout=10)

    def reporter_drained(self) -> bool:
        return self.reporter is None or self.reporter.drained()

    def hold(self, at: int) -> Hold:
        """Hold the answer to the call carrying the `at`-th message taken (a kill lands in it).

        Counted in messages, not calls: a batched call carries many."""
        hold = Hold(at)
        with self.lock:
            self.holds.append(hold)
            self.every_hold.append(hold)
        return hold

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path != SEND or request.method != "POST":
            return Response("not found", status=404)(environ, start_response)
        return self._send(request)(environ, start_response)

    def _send(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        refs = references(body)
        with self.lock:
            self.requests += 1
            answer = self.script(self.requests, refs)
            hold = self._due_hold(len(refs)) if answer.takes else None
            if answer.takes:
                self.taken.update(refs)
            for ref in refs:
                self.timeline.setdefault(ref, []).append((time.monotonic(), answer.status))
        if answer.takes:
            return self._taken(body, refs, answer, hold)
        time.sleep(answer.delay)
        headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
        errors = {"errors": [{"message": "try again later"}]}
        return Response(json.dumps(errors), status=answer.status, headers=headers)

    def _due_hold(self, carried: int) -> Hold | None:
        reached = sum(self.taken.values()) + carried
        due = next((hold for hold in self.holds if reached >= hold.at), None)
        if due is not None:
            self.holds.remove(due)
        return due

    def _taken(
        self, body: dict[str, Any], refs: list[str], answer: Answer, hold: Hold | None
    ) -> Response:
        sg_id = f"sg{next(self.ids):08d}"
        if self.reporter is not None:
            emails = [p["to"][0]["email"] for p in body.get("personalizations", [])]
            for ref, email in zip(refs, itertools.cycle(emails or [""]), strict=False):
                self.reporter.report(ref, sg_id, email)
        if hold is not None:
            hold.references = refs
            hold.arrived.set()
            hold.released.wait(60)
        time.sleep(answer.delay)
        return Response("", status=answer.status, headers={"X-Message-Id": sg_id})

    def taken_count(self) -> int:
        """How many copies of messages were taken so far."""
        with self.lock:
            return sum(self.taken.values())

    def copies(self) -> Counter[str]:
        with self.lock:
            return Counter(self.taken)


@contextmanager
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    """A fake SendGrid served on a free port (`fake.url`); `report_to` starts its reports."""
    fake = FakeSendGrid()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        for hold in fake.every_hold:
            hold.release()
        fake.stop_reporting()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
