"""The one place domain errors become HTTP answers, in flask-smorest's JSON shape."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import InterfaceError, OperationalError

from hcs.errors import AuthenticationFailed, PermissionDenied
from templates_store import errors as store

STATUS_FOR: list[tuple[type[Exception], int]] = [
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (store.NotFound, 404),
    (store.Conflict, 409),
    (store.ValidationFailed, 422),
    (store.TemplateProblem, 422),
]


def error_body(code: int, errors: dict[str, list[str]] | None = None, message: str = "") -> dict:
    """`{"code", "status", "errors"?, "message"?}`, as flask-smorest answers."""
    body: dict = {"code": code, "status": HTTPStatus(code).phrase}
    if errors:
        body["errors"] = errors
    if message:
        body["message"] = message
    return body


def _handle(exc: Exception) -> ResponseReturnValue:
    code = next(status for kind, status in STATUS_FOR if isinstance(exc, kind))
    if isinstance(exc, store.ValidationFailed):
        return jsonify(error_body(code, exc.errors)), code
    if isinstance(exc, store.TemplateProblem):
        body = error_body(code, {f"parts.{exc.part}": [str(exc)]})
        if exc.reason:  # render_timeout, render_limit: what a caller may act upon
            body["reason"] = exc.reason
        return jsonify(body), code
    return jsonify(error_body(code, message=str(exc))), code


def _database_down(exc: Exception) -> ResponseReturnValue:
    # The request's transaction never committed, so nothing of it was written; the error's text
    # (which may quote the statement's parameters) is not echoed.
    body = error_body(503, message="the database is unavailable; nothing was saved, try again")
    return jsonify(body), 503, {"Retry-After": "5"}


def init_app(app: Flask) -> None:
    """Register the domain error handlers, and 503 for a database that cannot be reached."""
    for kind, _ in STATUS_FOR:
        app.register_error_handler(kind, _handle)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
