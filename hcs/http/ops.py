"""Operations endpoints: liveness for load balancers, readiness detail for orchestrators.

`/healthz` is the process and the database: a broker outage does not pull an API node, since
the API still accepts into the outbox and the workers' sweep queues it later. `/readyz` tells
the broker, the database and the workers' heartbeat apart, and is 503 only when the database
(where every send is accepted) does not answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hcs.dispatch.heartbeat import pulse
from hcs.dispatch.lag import archive_lag
from hcs.http.extensions import db_session, services
from hcs.infrastructure.db import begin_read
from templates_store.orm import utcnow

bp = Blueprint("ops", __name__)


def _database() -> str:
    try:
        # A read transaction: on SQLite a health check never queues behind a writer.
        begin_read(db_session())
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db_session().rollback()
        return type(exc).__name__
    return "ok"


def _broker() -> dict[str, str]:
    celery = current_app.extensions.get("celery")
    if celery is None:
        return {"state": "none"}  # no broker: the API process sends itself
    from hcs.worker.tasks import broker_problem

    problem = broker_problem(celery)
    return {"state": "down", "error": problem} if problem else {"state": "ok"}


def _workers() -> dict[str, Any]:
    seen = pulse(db_session())
    db_session().rollback()
    if seen.last_beat is None:
        return {"state": "none", "count": 0}
    ago = round((utcnow() - seen.last_beat).total_seconds(), 1)
    state = "ok" if seen.count else "stale"
    return {"state": state, "count": seen.count, "last_beat_seconds_ago": ago}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 while the database answers, whatever the broker does; else 503."""
    database = _database()
    if database != "ok":
        return jsonify({"status": "unavailable", "down": ["database"], "database": database}), 503
    return jsonify({"status": "ok", "database": database})


@dataclass(frozen=True)
class Check:
    """One readiness check: its detail, whether it degrades, whether it makes `/readyz` 503."""

    detail: Any
    degraded: bool = False
    unready: bool = False


def _broker_check() -> Check:
    broker = _broker()
    return Check(broker, degraded=broker["state"] == "down")


def _workers_check() -> Check:
    workers = _workers()
    return Check(workers, degraded=workers["state"] == "stale")


def _archive_check() -> Check:
    """The send–archive gap (`hcs.dispatch.lag`): 503 past `HCS_ARCHIVE_LAG_MAX`."""
    lag = archive_lag(db_session())
    db_session().rollback()
    limit = services().settings.archive_lag_max
    lagging = limit is not None and lag.worst_seconds > limit.total_seconds()
    detail = {
        "state": "lagging" if lagging else "ok",
        "unarchived": lag.unarchived.count,
        "oldest_unarchived_seconds": lag.unarchived.oldest_seconds,
        "unsealed": lag.unsealed.count,
        "oldest_unsealed_seconds": lag.unsealed.oldest_seconds,
        "max_seconds": None if limit is None else limit.total_seconds(),
    }
    return Check(detail, unready=lagging)


# `/readyz` answers each of these under its name, in order; a new check is one entry here.
READINESS: dict[str, Callable[[], Check]] = {"broker": _broker_check, "workers": _workers_check}
READINESS["archive"] = _archive_check


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The broker, database and workers in detail; 503 only when sends cannot be accepted."""
    database = _database()
    if database != "ok":
        return jsonify({"status": "unavailable", "down": ["database"], "database": database}), 503
    checks = {name: check() for name, check in READINESS.items()}
    unready = [name for name, check in checks.items() if check.unready]
    healthy = not any(check.degraded for check in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", "database": database}
    body.update({name: check.detail for name, check in checks.items()})
    if unready:
        return jsonify({**body, "status": "unavailable", "down": unready}), 503
    return jsonify(body)
