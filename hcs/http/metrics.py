"""`/metrics`: Prometheus text format, with request latency and the outbox depth at scrape time.

Counters of accepts, renders, sends, retries and archive writes live in
`hcs.messages.telemetry`. With several processes on one host (gunicorn, Celery workers), set
`PROMETHEUS_MULTIPROC_DIR` for all of them and this endpoint adds them up.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from hcs.dispatch.lag import ArchiveLag, archive_lag
from hcs.dispatch.queueing import queue_depth
from hcs.http.extensions import services
from hcs.messages import telemetry

bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "hcs_http_request_seconds",
    "HTTP requests by endpoint, method and status (accepts: messages.Messages, messages.Batch)",
    ["endpoint", "method", "status"],
)


class _Scrape:
    """The process's (or every process's) metrics plus the queue depth, read now."""

    def collect(self) -> Iterator[Metric]:
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        with services().sessions() as session:
            depth, lag = queue_depth(session), archive_lag(session)
        yield GaugeMetricFamily("hcs_queue_depth", "Outbox entries not done yet", value=depth)
        yield from _lag_gauges(lag)


def _lag_gauges(lag: ArchiveLag) -> Iterator[Metric]:
    """The send–archive gap per stage: `archive` (sent, no entry), `seal` (entry not sealed)."""
    age = GaugeMetricFamily(
        "hcs_archive_lag_seconds",
        "Age of the oldest send waiting at this stage for its sealed archive entry",
        labels=["stage"],
    )
    count = GaugeMetricFamily(
        "hcs_archive_backlog", "Sends waiting at this stage for a sealed entry", labels=["stage"]
    )
    for stage, backlog in (("archive", lag.unarchived), ("seal", lag.unsealed)):
        age.add_metric([stage], backlog.oldest_seconds)
        count.add_metric([stage], backlog.count)
    yield from (age, count)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def refusal() -> Response | None:
    """Why this scrape is refused, or None.

    With `HCS_METRICS_TOKEN` set, only `Authorization: Bearer <token>` is served; without it,
    only callers on the same host (a scraper beside the process), never the public.
    """
    token = services().settings.metrics_token
    if not token:
        if _is_loopback(request.remote_addr):
            return None
        return Response("metrics are served on loopback only; set HCS_METRICS_TOKEN\n", 403)
    given = request.headers.get("Authorization", "")
    if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return None
    challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
    return Response("a bearer token is required\n", 401, headers=challenge)


@bp.get("/metrics")
def metrics() -> Response:
    """Every metric in Prometheus text format, to the holder of the token."""
    if (refused := refusal()) is not None:
        return refused
    return Response(generate_latest(_Scrape()), mimetype=CONTENT_TYPE_LATEST)


def _start() -> None:
    g.hcs_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("hcs_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def init_app(app: Flask) -> None:
    """Serve /metrics, time every request and count accepted messages."""
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_observe)
    telemetry.watch_accepts(app.extensions["hcs"].sessions)
