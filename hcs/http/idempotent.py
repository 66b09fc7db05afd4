"""`Idempotency-Key` on every POST that creates, as on sends (`hcs.messages.idempotency`).

A caller that lost an answer (a timeout, a dropped connection, an `outcome_unknown`) sends the
same request again with the same key: the first answer comes back, marked
`Idempotent-Replayed: true`, and nothing more is created. The key's record is written in the
same transaction as what the request created, so neither can be saved without the other; two
requests with one key at the same moment create once (the second finds the first's record when
its own commit meets the key's unique index). The same key with another request is 409.

Secrets a creating answer shows once (a generated password, a webhook signing secret) are not
kept with the answer: a replay leaves them out, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hcs.http.auth import caller
from hcs.http.extensions import db_session
from hcs.messages import idempotency
from templates_store.errors import Conflict

F = TypeVar("F", bound=Callable[..., Any])
REPLAYED = "Idempotent-Replayed"
HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "the same key with the same request answers the first answer again and "
    "creates nothing more (kept 48 hours)",
}


def idempotent(*, secrets: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Honour `Idempotency-Key` on a creating view; put it above `@blp.response`.

    `secrets` names fields of the answer shown once: they are not kept for a replay. The
    view's commits only flush until it returns, so it must not need its writes seen by another
    session before then (a view that commits, then hands the row to a worker, is not one).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def once(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return view(*args, **kwargs)
            session, who = db_session(), caller().email
            idempotency.check_key(key)
            body = request.get_json(silent=True)
            digest = idempotency.request_hash(request.method, request.path, body)
            replay = idempotency.find(session, who, key, digest)
            if replay is not None:
                return _replayed(replay)
            try:
                with _commits_deferred(session):
                    response = view(*args, **kwargs)
                kept = _without(response.get_json(), secrets)
                idempotency.remember(session, who, key, digest, response.status_code, kept)
                session.commit()
            except (IntegrityError, Conflict):
                # The same key at the same moment: the first request's work or its key reached
                # the database first (its template key taken, or the key's own unique index).
                session.rollback()
                replay = idempotency.find(session, who, key, digest)
                if replay is None:
                    raise
                return _replayed(replay)
            return response

        _document(once)
        return once  # type: ignore[return-value]

    return decorate


@contextmanager
def _commits_deferred(session: Session) -> Iterator[None]:
    """The view's commits only flush, so its work and the key's record commit together."""
    session.commit = session.flush  # type: ignore[method-assign]
    try:
        yield
    finally:
        del session.commit


def _without(answer: Any, secrets: tuple[str, ...]) -> Any:
    if not isinstance(answer, dict):
        return answer
    kept = dict(answer)
    for name in secrets:
        if kept.pop(name, None) is not None:
            kept.setdefault("not_replayed", []).append(name)
    return kept


def _replayed(replay: idempotency.Replay) -> Response:
    response = jsonify(replay.body)
    response.status_code = replay.status_code
    response.headers[REPLAYED] = "true"
    return response


def _document(view: Callable[..., Any]) -> None:
    """The header in the OpenAPI document, as `Blueprint.doc` would add it."""
    doc = deepcopy(getattr(view, "_apidoc", {}))
    manual = doc.setdefault("manual_doc", {})
    manual["parameters"] = [*manual.get("parameters", []), HEADER]
    view._apidoc = doc  # type: ignore[attr-defined]
