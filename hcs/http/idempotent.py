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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Asked:
    """A request's `Idempotency-Key`: whose it is, and a digest of what was asked with it."""

    principal: str
    key: str
    digest: str

    def replay(self, session: Session) -> Response | None:
        """The first answer to this key, marked as replayed; None when there is none yet.
        Conflict when the key came with another request."""
        found = idempotency.find(session, self.principal, self.key, self.digest)
        if found is None:
            return None
        response = jsonify(found.body)
        response.status_code = found.status_code
        response.headers[REPLAYED] = "true"
        return response

    def remember(self, session: Session, status: int, answer: Any) -> None:
        """Keep the answer, in the transaction of the work it describes."""
        idempotency.remember(session, self.principal, self.key, self.digest, status, answer)

    def raced(self, session: Session) -> Response:
        """After the commit met a unique index: the first request's answer when this key won
        the race for it, else the error itself (re-raised)."""
        session.rollback()
        replay = self.replay(session)
        if replay is None:
            raise  # the error being handled: this is called from an `except` block
        return replay


def asked() -> Asked | None:
    """This request's `Idempotency-Key`, checked; None when it sent none."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    idempotency.check_key(key)
    digest = idempotency.request_hash(request.method, request.path, request.get_json(silent=True))
    return Asked(caller().email, key, digest)


def idempotent(*, secrets: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Honour `Idempotency-Key` on a creating view; put it above `@blp.response`.

    `secrets` names fields of the answer shown once: they are not kept for a replay. The
    view's commits only flush until it returns, so it must not need its writes seen by another
    session before then (a view that commits, then hands the row to a worker, is not one).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def once(*args: Any, **kwargs: Any) -> Any:
            key = asked()
            if key is None:
                return view(*args, **kwargs)
            session = db_session()
            if (replay := key.replay(session)) is not None:
                return replay
            try:
                with _commits_deferred(session):
                    response = view(*args, **kwargs)
                key.remember(session, response.status_code, _without(response.get_json(), secrets))
                session.commit()
            except (IntegrityError, Conflict):
                # The same key at the same moment: the first request's work or its key reached
                # the database first (its template key taken, or the key's own unique index).
                return key.raced(session)
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


def _document(view: Callable[..., Any]) -> None:
    """The header in the OpenAPI document, as `Blueprint.doc` would add it."""
    doc = deepcopy(getattr(view, "_apidoc", {}))
    manual = doc.setdefault("manual_doc", {})
    manual["parameters"] = [*manual.get("parameters", []), HEADER]
    view._apidoc = doc  # type: ignore[attr-defined]
