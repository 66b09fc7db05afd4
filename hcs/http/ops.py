"""Operations endpoints: liveness for load balancers, readiness detail for orchestrators.

`/healthz` is the process and the database: a broker outage does not pull an API node, since
the API still accepts into the outbox and the workers' sweep queues it later. `/readyz` tells
the broker, the database and the workers' heartbeat apart, and is 503 when the database
(where every send is accepted) does not answer, or when a send has waited longer than
`HCS_ARCHIVE_LAG_MAX` for its sealed archive entry (`hcs.dispatch.lag`).
"""

from __future__ import annotations

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


def _archive() -> dict[str, Any]:
    lag = archive_lag(db_session())
    db_session().rollback()
    limit = services().settings.archive_lag_max
    state = "lagging" if limit is not None and lag.worst_seconds > limit.total_seconds() else "ok"
    return {
        "state": state,
        "unarchived": lag.unarchived.count,
        "oldest_unarchived_seconds": lag.unarchived.oldest_seconds,
        "unsealed": lag.unsealed.count,
        "oldest_unsealed_seconds": lag.unsealed.oldest_seconds,
        "max_seconds": None if limit is None else limit.total_seconds(),
    }


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 while the database answers, whatever the broker does; else 503."""
    database = _database()
    if database != "ok":
        return jsonify({"status": "unavailable", "down": ["database"], "database": database}), 503
    return jsonify({"status": "ok", "database": database})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The broker, database, workers and archive lag in detail; 503 when sends cannot be accepted
    or evidence of them lags past its bound."""
    database = _database()
    if database != "ok":
        return jsonify({"status": "unavailable", "down": ["database"], "database": database}), 503
    broker, workers, evidence = _broker(), _workers(), _archive()
    healthy = broker["state"] != "down" and workers["state"] != "stale"
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", "database": database}
    body |= {"broker": broker, "workers": workers, "archive": evidence}
    if evidence["state"] == "lagging":
        return jsonify({**body, "status": "unavailable", "down": ["archive"]}), 503
    return jsonify(body)
