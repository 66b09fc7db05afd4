"""Benchmarks of the send pipeline, each against the raw cost of the same work in the same run.

1. Acceptance over HTTP, 8 keep-alive client connections from 127.0.0.1: single sends and
   batches, against a bare validate-only Flask endpoint under the same server, once served by
   gunicorn (two gthread workers of one thread each) and once by Granian (two WSGI workers of
   two Python threads each, `tests.perf.serving.GRANIAN_OPTIONS`), all four interleaved.
2. Personalized emails end to end (accept, render, finish, outbox send, archive) with the
   in-process worker and with Celery on Redis (two worker processes), against a plain Jinja
   render plus one bare INSERT per message (one statement each, committed per 1,000).
3. The same emails through django-post-office (`send_many`, a locmem backend, SQLite WAL).

`HCS_BENCH_EMAILS` sets how many emails (default 1,000, a few minutes in all on two shared
cores; the issue's figure is 100,000, and each row says what 100,000 would take).
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from hcs.dispatch.providers import build_providers
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import transaction
from hcs.messages.accepting import MAX_BATCH, SendRequest, accept_batch
from hcs.messages.models import Message, OutboxEntry
from hcs.worker.runtime import Worker, build_worker
from tests.perf.pipeline_world import HTML, SUBJECT, TEMPLATE, data, ready_world, send
from tests.perf.serving import ROOT, SERVERS, Load, percentile, request_bytes, run_load
from tests.perf.timing import median_seconds

CONNECTIONS = 8
ROUNDS = 3
SENDS = 1500  # single sends per round
BATCH_SIZE = 500
BATCHES = 16  # batch requests per round
EMAILS = int(os.environ.get("HCS_BENCH_EMAILS", "1000"))
PIPELINE, BARE = "hcs.http.app:create_app()", "tests.perf.bare_app:create_app()"
# Seconds per email end to end, by backend: what the django-post-office peer is compared with.
RESULTS: dict[str, float] = {}


def _rounds(ports: dict[str, int], requests: dict[str, Sequence[bytes]]) -> dict[str, list[Load]]:
    """Interleaved rounds on each server: other work on the machine hits both alike."""
    loads: dict[str, list[Load]] = {name: [] for name in ports}
    for _ in range(ROUNDS):
        for name, port in ports.items():
            loads[name].append(run_load(port, requests[name], connections=CONNECTIONS))
    return loads


def _median_seconds(loads: list[Load], per: int) -> float:
    """Median wall time of a round, per request."""
    return statistics.median(load.elapsed / per for load in loads)


def _latencies(loads: list[Load]) -> str:
    pooled = [latency for load in loads for latency in load.latencies]
    p50, p99 = (percentile(pooled, q) * 1e3 for q in (0.5, 0.99))
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"


def _single_requests(key: str, start: int) -> list[bytes]:
    headers = {"Authorization": f"Bearer {key}"}
    return [
        request_bytes(
            "POST",
            "/api/v1/messages",
            {"template": TEMPLATE, "channel": "email", **send(start + n)},
            headers,
        )
        for n in range(SENDS)
    ]


def _batch_requests(key: str) -> list[bytes]:
    headers = {"Authorization": f"Bearer {key}"}
    return [
        request_bytes(
            "POST",
            "/api/v1/messages/batch",
            {
                "template": TEMPLATE,
                "channel": "email",
                "messages": [send(b * BATCH_SIZE + n) for n in range(BATCH_SIZE)],
            },
            headers,
        )
        for b in range(BATCHES)
    ]


def _all_accepted(loads: dict[str, list[Load]]) -> None:
    for name, runs in loads.items():
        for load in runs:
            assert set(load.statuses) == {202}, (name, load.statuses)


@pytest.mark.perf
def test_accepting_over_http_against_a_bare_endpoint(
    fresh_database_url: str, tmp_path: Path, bench_report: Callable[..., None]
) -> None:
    world = ready_world(fresh_database_url, tmp_path / "var")
    services = world.app.extensions["hcs"]
    backend, key = services.engine.dialect.name, world.keys["system"]
    services.engine.dispose()
    env = {
        "HCS_DATABASE_URL": fresh_database_url,
        "HCS_SECRET_KEY": "bench",
        "HCS_VAR_DIR": str(tmp_path / "var"),
    }
    single = _single_requests(key, 0)
    batches = _batch_requests(key)
    with ExitStack() as stack:
        ports: dict[str, int] = {}
        for server, serve in SERVERS.items():  # the pipeline and the bare endpoint under each
            ports[f"{server} pipeline"] = stack.enter_context(serve(PIPELINE, env))
            ports[f"{server} raw"] = stack.enter_context(serve(BARE))
        for port in ports.values():  # warm both workers of each server
            run_load(port, _single_requests(key, 10**6)[:200], connections=CONNECTIONS)
        sends = _rounds(ports, dict.fromkeys(ports, single))
        batched = _rounds(ports, dict.fromkeys(ports, batches))
    _all_accepted(sends)
    _all_accepted(batched)
    expected = len(SERVERS) * (200 + ROUNDS * (SENDS + BATCHES * BATCH_SIZE))
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == expected
    services.engine.dispose()
    for server in SERVERS:
        _report_server(server, backend, sends, batched, bench_report)


def _report_server(
    server: str,
    backend: str,
    sends: dict[str, list[Load]],
    batched: dict[str, list[Load]],
    bench_report: Callable[..., None],
) -> None:
    """The single-send and batch rows of one server: its pipeline against its bare endpoint."""
    pipeline, raw = f"{server} pipeline", f"{server} raw"
    latencies = _latencies(sends[pipeline])
    name = f"POST /messages, {CONNECTIONS} conns, {server} [{backend}] {latencies}"
    pipeline_s, raw_s = (_median_seconds(sends[n], SENDS) for n in (pipeline, raw))
    bench_report(name, pipeline_s, raw_s, unit="req", per=1)
    print(f"\n{name}; bare endpoint {_latencies(sends[raw])}, {1 / raw_s:,.0f} req/s")
    latencies = _latencies(batched[pipeline])
    name = f"POST /messages/batch x{BATCH_SIZE}, {server} [{backend}] {latencies}"
    count = BATCHES * BATCH_SIZE
    pipeline_s, raw_s = (_median_seconds(batched[n], count) for n in (pipeline, raw))
    bench_report(name, pipeline_s, raw_s, unit="msg", per=1)
    print(f"{name}; bare endpoint {_latencies(batched[raw])}")


def _accept_all(sessions: sessionmaker[Session], count: int) -> None:
    """Accept `count` emails in batches of 1,000, one transaction each, as the batch API does."""
    for start in range(0, count, MAX_BATCH):
        requests = [SendRequest(**send(n)) for n in range(start, min(start + MAX_BATCH, count))]
        with transaction(sessions) as session:
            accept_batch(session, TEMPLATE, "email", requests, requested_by="bench")


def _drain(worker: Worker) -> int:
    handled = 0
    while batch := worker.run_once():
        handled += batch
    return handled


def _worker(world_settings: Settings, sessions: sessionmaker[Session]) -> tuple[Worker, str]:
    """The worker `hcs run` starts: archiving what it sends when the archive is installed."""
    if importlib.util.find_spec("hcs.archive") is not None:
        return build_worker(world_settings, sessions), "+archive"
    return Worker(sessions, build_providers(world_settings), on_sent=None), "no archive yet"


BARE_EMAILS = Table(
    "bare_emails",
    MetaData(),
    Column("id", String(40), primary_key=True),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("html", Text, nullable=False),
)


def _raw_emails(engine: Engine, count: int) -> None:
    """The raw work: a plain Jinja render and one bare INSERT per email, 1,000 per commit."""
    jinja = jinja2.Environment(autoescape=True)
    subject, html = jinja.from_string(SUBJECT), jinja.from_string(HTML)
    statement = insert(BARE_EMAILS)
    for start in range(0, count, MAX_BATCH):
        with engine.begin() as connection:
            for n in range(start, min(start + MAX_BATCH, count)):
                names = {**data(n), "unsubscribe_url": f"https://hcs.example/u/{n}"}
                row = {
                    "id": f"raw_{n}",
                    "recipient": f"customer{n}@example.com",
                    "subject": subject.render(names),
                    "html": html.render(names),
                }
                connection.execute(statement, row)
        with engine.begin() as connection:
            connection.execute(delete(BARE_EMAILS))


@dataclass(frozen=True)
class EndToEnd:
    """One timed run of the pipeline over `EMAILS` emails."""

    backend: str
    archive: str
    accept_s: float
    total_s: float


def _archived(session: Session) -> int | None:
    if importlib.util.find_spec("hcs.archive") is None:
        return None
    from hcs.archive import ArchiveEntry

    return session.scalar(select(func.count()).select_from(ArchiveEntry))


def _emails_end_to_end(
    url: str, var_dir: Path, raw: Callable[[Engine], float]
) -> tuple[EndToEnd, float]:
    """Accept `EMAILS` emails in batches, then drain them with the in-process worker."""
    world = ready_world(url, var_dir)
    services = world.app.extensions["hcs"]
    worker, archive = _worker(services.settings, services.sessions)
    _accept_all(services.sessions, 50)  # compile and cache the template, warm the pool
    _drain(worker)
    start = time.perf_counter()
    _accept_all(services.sessions, EMAILS)
    accepted = time.perf_counter()
    handled = _drain(worker)
    run = EndToEnd(
        services.engine.dialect.name, archive, accepted - start, time.perf_counter() - start
    )
    raw_s = raw(services.engine)
    with services.sessions() as session:
        sent = select(func.count()).select_from(Message).where(Message.status == "sent")
        assert handled == EMAILS and session.scalar(sent) == EMAILS + 50
        assert _archived(session) in (None, EMAILS + 50)
    assert len(list((services.settings.outbox_dir / "email").iterdir())) == EMAILS + 50
    services.engine.dispose()
    RESULTS[run.backend] = run.total_s / EMAILS
    return run, raw_s


def _median_raw(engine: Engine) -> float:
    BARE_EMAILS.create(engine)
    return median_seconds(lambda: _raw_emails(engine, EMAILS), repeat=3)


@pytest.mark.perf
def test_personalized_emails_end_to_end_against_render_and_insert(
    fresh_database_url: str, tmp_path: Path, bench_report: Callable[..., None]
) -> None:
    run, raw_s = _emails_end_to_end(fresh_database_url, tmp_path / "var", _median_raw)
    name = f"{EMAILS:,} emails end to end, in-process worker, {run.archive} [{run.backend}]"
    bench_report(name, run.total_s, raw_s, unit="email", per=EMAILS)
    accept, dispatch = (t * 1e3 / EMAILS for t in (run.accept_s, run.total_s - run.accept_s))
    print(
        f"\n{name}: accept {accept:.3f} ms/email, dispatch {dispatch:.3f} ms/email; "
        f"100,000 would take {run.total_s / EMAILS * 100_000:,.0f} s (target < 30 s)"
    )


def _post_office(count: int, db_path: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "tests.perf.post_office_peer", str(count), str(db_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.perf
def test_personalized_emails_against_django_post_office(
    tmp_path: Path, bench_report: Callable[..., None]
) -> None:
    if "sqlite" not in RESULTS:  # run alone: measure the pipeline here too
        _emails_end_to_end(f"sqlite:///{tmp_path / 'hcs.db'}", tmp_path / "var", lambda _: 0.0)
    peer = _post_office(EMAILS, tmp_path / "post_office.db")
    assert peer["sent"] == peer["delivered"] == EMAILS
    name = f"{EMAILS:,} emails vs django-post-office (send_many, locmem) [sqlite WAL]"
    bench_report(name, RESULTS["sqlite"] * EMAILS, peer["seconds"], unit="email", per=EMAILS)
    print(f"\n{name}: django-post-office {peer['seconds'] * 1e3 / EMAILS:.3f} ms/email")


CELERY_PROCESSES = int(os.environ.get("HCS_BENCH_CELERY_PROCESSES", "2"))
CELERY_WORKER = (
    "from hcs.infrastructure.config import load_settings; "
    "from hcs.worker.sweeping import run_celery_worker; "
    f"run_celery_worker(load_settings(None), '--concurrency={CELERY_PROCESSES}', "
    "'--loglevel=WARNING')"
)
REDIS_URL = os.environ.get("HCS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _sent(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(Message).where(Message.status == "sent")
        return int(session.scalar(query) or 0)


def _pending(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        waiting = select(OutboxEntry.id).where(OutboxEntry.done_at.is_(None)).limit(1)
        return session.scalar(waiting) is not None


def _wait_for_sent(sessions: sessionmaker[Session], count: int, seconds: float) -> None:
    """Until nothing waits in the outbox (every accepted entry is done), then `count` are sent.

    The wait asks whether one entry is pending (the first the pending entries' index finds), not
    how many messages are sent: counting 100,000 messages ten times a second took PostgreSQL a
    sixth of the run, on the two cores the workers share with it.
    """
    deadline = time.monotonic() + seconds
    while _pending(sessions):
        assert time.monotonic() < deadline, f"entries still pending after {seconds} s"
        time.sleep(0.1)
    assert _sent(sessions) == count


def _accept_and_enqueue(world: Any, celery: Any, start: int, stop: int) -> None:
    from hcs.worker.tasks import enqueue

    services = world.app.extensions["hcs"]
    lease = timedelta(seconds=services.settings.dispatch_lease_seconds)
    for first in range(start, stop, MAX_BATCH):
        requests = [SendRequest(**send(n)) for n in range(first, min(first + MAX_BATCH, stop))]
        with transaction(services.sessions) as session:
            ids = [
                m.id for m in accept_batch(session, TEMPLATE, "email", requests, requested_by="b")
            ]
        enqueue(celery, services.sessions, lease, ids)


@pytest.mark.perf
def test_personalized_emails_end_to_end_with_celery_on_redis(
    fresh_database_url: str, tmp_path: Path, bench_report: Callable[..., None]
) -> None:
    pytest.importorskip("hcs.worker.tasks")
    from hcs.worker.tasks import make_celery
    from tests.reliability.workers import celery_worker, purge_redis_queue, worker_env

    world = ready_world(fresh_database_url, tmp_path / "var")
    services = world.app.extensions["hcs"]
    queue = f"hcs-bench-{uuid.uuid4().hex[:8]}"
    settings = replace(services.settings, broker_url=REDIS_URL, celery_queue=queue)
    celery = make_celery(settings)
    env = worker_env(
        {
            "HCS_DATABASE_URL": fresh_database_url,
            "HCS_SECRET_KEY": services.settings.secret_key,
            "HCS_VAR_DIR": str(services.settings.var_dir),
            "HCS_BROKER_URL": REDIS_URL,
            "HCS_CELERY_QUEUE": queue,
            # The default: the sweep's housekeeping (sealing, the planner's statistics) runs
            # during the run, as in production.
            "HCS_SWEEP_SECONDS": "10",
        }
    )
    try:
        with celery_worker(env, tmp_path / "worker.log", [sys.executable, "-c", CELERY_WORKER]):
            _accept_and_enqueue(world, celery, 0, 50)  # worker start-up and warm-up
            _wait_for_sent(services.sessions, 50, 120)
            start = time.perf_counter()
            _accept_and_enqueue(world, celery, 50, EMAILS + 50)
            _wait_for_sent(services.sessions, EMAILS + 50, 60 + EMAILS)
            pipeline_s = time.perf_counter() - start
    finally:
        purge_redis_queue(REDIS_URL, queue)
        celery.close()
    with services.sessions() as session:
        assert _archived(session) in (None, EMAILS + 50)
    assert len(list((services.settings.outbox_dir / "email").iterdir())) == EMAILS + 50
    raw_s = _median_raw(services.engine)
    services.engine.dispose()
    backend = services.engine.dialect.name
    processes = f"{CELERY_PROCESSES} processes"
    name = f"{EMAILS:,} emails end to end, Celery on Redis, {processes} [{backend}]"
    bench_report(name, pipeline_s, raw_s, unit="email", per=EMAILS)
    print(f"\n{name}: 100,000 would take {pipeline_s / EMAILS * 100_000:,.0f} s")
