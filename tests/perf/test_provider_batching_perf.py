"""Provider calls in batches: the same emails through a loopback SendGrid, batched and one by one.

The pipeline row sends each round's emails in one Mail Send request (one personalization each,
`hcs.dispatch.sending`); the raw row is the same pipeline with SendGrid taking one email a call,
as before batching. Interleaved rounds on one database, so other work on the machine hits both
alike; each round's emails are accepted first, then drained by the in-process worker (archive
included). The loopback server answers 202 at once, so the figures are HCS's own cost of a call
and of recording it, not a provider's latency (which batching saves too).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from channels.email.sendgrid import SendGridEmail
from hcs.infrastructure.db import transaction
from hcs.infrastructure.delivery import read_delivery
from hcs.messages.accepting import SendRequest, accept_batch
from hcs.worker.runtime import build_worker
from tests.perf.pipeline_world import TEMPLATE, ready_world, send

EMAILS = int(os.environ.get("HCS_BENCH_EMAILS", "1000")) // 2
ROUNDS = 3


class _SendGrid(BaseHTTPRequestHandler):
    """Reads each Mail Send request and answers 202, counting requests and personalizations."""

    protocol_version = "HTTP/1.1"
    requests = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests += 1
        self.send_response(202)
        self.send_header("X-Message-Id", f"bench{type(self).requests}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sendgrid() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SendGrid)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _round(world: object, start: int, one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    services = world.app.extensions["hcs"]  # type: ignore[attr-defined]
    requests = [SendRequest(**send(n)) for n in range(start, start + EMAILS)]
    with transaction(services.sessions) as session:
        accept_batch(session, TEMPLATE, "email", requests, requested_by="bench")
    worker = build_worker(services.settings, services.sessions)
    monkeypatch.setattr(SendGridEmail, "batch_size", 1 if one_by_one else 1000)
    began = time.perf_counter()
    handled = 0
    while batch := worker.run_once():
        handled += batch
    assert handled == EMAILS
    return time.perf_counter() - began


@pytest.mark.perf
def test_emails_through_sendgrid_batched_against_one_call_each(
    fresh_database_url: str,
    tmp_path: Path,
    sendgrid: str,
    monkeypatch: pytest.MonkeyPatch,
    bench_report: Callable[..., None],
) -> None:
    delivery = read_delivery(
        {
            "HCS_EMAIL_PROVIDER": "sendgrid",
            "SENDGRID_API_KEY": "SG.bench",
            "HCS_SENDGRID_HOST": sendgrid,
        }
    )
    world = ready_world(fresh_database_url, tmp_path / "var", delivery=delivery)
    _round(world, 10**6, False, monkeypatch)  # warm-up: compile, caches, pool
    timings: dict[bool, list[float]] = {False: [], True: []}
    calls: dict[bool, int] = {False: 0, True: 0}
    for n in range(ROUNDS):
        for one_by_one in (False, True):
            before = _SendGrid.requests
            start = (2 * n + one_by_one) * EMAILS
            timings[one_by_one].append(_round(world, start, one_by_one, monkeypatch))
            calls[one_by_one] += _SendGrid.requests - before
    backend = world.app.extensions["hcs"].engine.dialect.name
    world.app.extensions["hcs"].engine.dispose()
    assert calls[True] == ROUNDS * EMAILS and calls[False] < calls[True] / 5
    batched, single = (statistics.median(timings[k]) for k in (False, True))
    name = f"{EMAILS:,} emails via loopback SendGrid, batched vs one call each [{backend}]"
    bench_report(name, batched, single, unit="email", per=EMAILS)
    print(
        f"\n{name}: {calls[False] / ROUNDS:.0f} requests a round batched, "
        f"{calls[True] / ROUNDS:.0f} one by one"
    )
