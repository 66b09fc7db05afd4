"""Operations endpoints: health for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hcs.http.extensions import db_session
from hcs.infrastructure.db import begin_read

bp = Blueprint("ops", __name__)


def _database() -> str:
    try:
        # A read transaction: on SQLite a health check never queues behind a writer.
        begin_read(db_session())
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return type(exc).__name__
    return "ok"


def _broker() -> str | None:
    celery = current_app.extensions.get("celery")
    if celery is None:
        return None
    from hcs.worker.tasks import broker_problem

    return broker_problem(celery) or "ok"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database (and the broker, when configured) answer; else 503 naming which."""
    checks = {"database": _database()}
    if (broker := _broker()) is not None:
        checks["broker"] = broker
    if any(state != "ok" for state in checks.values()):
        down = sorted(name for name, state in checks.items() if state != "ok")
        return jsonify({"status": "unavailable", "down": down, **checks}), 503
    return jsonify({"status": "ok", **checks})
