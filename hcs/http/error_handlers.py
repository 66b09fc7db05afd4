"""The one place errors become HTTP answers: JSON in flask-smorest's shape, or a page.

`STATUS_FOR` gives every class of the error tree (`hcs.errors`) its status; a subclass takes
its nearest listed base. The editor's pages show the same status on a page (`hcs.http.web`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from hcs import errors
from hcs.infrastructure.commits import is_outcome_unknown
from hcs.infrastructure.db import is_conflict

Presenter = Callable[[Exception], ResponseReturnValue]

STATUS_FOR: dict[type[Exception], int] = {
    errors.AuthenticationFailed: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.SignoffRequired: 409,
    errors.AppendOnlyViolation: 409,
    errors.ValidationFailed: 422,
    errors.TemplateProblem: 422,
    errors.NoteError: 422,
    errors.UnreadableEvaluation: 422,
    errors.TooSoon: 429,
    # The server's own trouble, said plainly: a misconfigured key, a model or database away.
    errors.ArchiveKeyError: 500,
    errors.AIUnavailable: 503,
    errors.DispatchUnavailable: 503,
    errors.SendTestFailed: 502,
    CSRFError: 400,  # a form without its token: refused, never an error of ours
}
# 5xx answers name the trouble, never the error's text (it may quote keys or parameters).
SERVER_MESSAGES: dict[type[Exception], str] = {
    errors.ArchiveKeyError: "the archive's keys are not configured to read this; nothing changed",
    errors.AIUnavailable: "the AI model is unavailable; nothing was saved, try again",
    errors.DispatchUnavailable: "the database is unavailable; nothing was saved, try again",
    errors.SendTestFailed: "the provider refused or did not answer the test send; try again",
}
# The page an HTML request refused by this status is titled with.
TITLES = {403: "Not allowed", 404: "Not found", 409: "Not possible now", 400: "Form refused"}


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error of the tree: its nearest class listed in `STATUS_FOR`."""
    for kind in type(exc).__mro__:
        if kind in STATUS_FOR:
            return STATUS_FOR[kind]
    return 500


def message_of(exc: BaseException) -> str:
    """What the answer says: the error's own text, or for a server error what went wrong."""
    for kind in type(exc).__mro__:
        if kind in SERVER_MESSAGES:
            return SERVER_MESSAGES[kind]
    if isinstance(exc, HTTPException):
        return exc.description or ""
    return str(exc)


def error_body(
    code: int, errors: dict[str, list[str]] | None = None, message: str = ""
) -> dict[str, Any]:
    """`{"code", "status", "errors"?, "message"?}`, as flask-smorest answers."""
    body: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase}
    if errors:
        body["errors"] = errors
    if message:
        body["message"] = message
    return body


def fields_of(exc: BaseException) -> dict[str, list[str]] | None:
    """The fields an error names: a validation's, or the template part that failed."""
    if isinstance(exc, errors.ValidationFailed):
        return exc.errors
    if isinstance(exc, errors.TemplateProblem):
        return {f"parts.{exc.part}": [str(exc)]}
    return None


def as_json(exc: Exception) -> ResponseReturnValue:
    """An error of the tree as flask-smorest's JSON body, with its status."""
    code = status_of(exc)
    fields = fields_of(exc)
    body = error_body(code, fields) if fields else error_body(code, message=message_of(exc))
    if isinstance(exc, errors.TemplateProblem) and exc.reason:
        body["reason"] = exc.reason  # render_timeout, render_limit: what a caller may act upon
    rule = getattr(exc, "rule", None)
    if isinstance(rule, str):  # a refusal that names the rule it applies
        body["rule"] = rule
    return jsonify(body), code


OUTCOME_UNKNOWN = (
    "the connection to the database was lost while this request was being committed: it may or "
    "may not have been saved. Retry with the same Idempotency-Key: it is then done exactly once"
)
DOWN = "the database is unavailable and this request did not complete; try again"
CONFLICT = (
    "this request's transaction kept conflicting with concurrent work and was rolled back, "
    "so nothing of it was saved; try again"
)


def _database_down(exc: Exception) -> ResponseReturnValue:
    if is_outcome_unknown(exc):
        body = error_body(503, message=OUTCOME_UNKNOWN) | {"reason": "outcome_unknown"}
        return jsonify(body), 503, {"Retry-After": "5"}
    # A lost connection may have taken a commit with it, so an outage claims nothing about what
    # was saved; a deadlock or serialization failure is known to have rolled everything back.
    # The error's own text (which may quote the statement's parameters) is not echoed.
    body = error_body(503, message=CONFLICT if is_conflict(exc) else DOWN)
    return jsonify(body), 503, {"Retry-After": "5"}


def init_app(app: Flask, pages: Mapping[str, Presenter]) -> None:
    """Answer the tree's errors and refused forms (CSRF): as JSON, or as the page of `pages`.

    `pages` maps a blueprint to how it shows an error on a page; every other request gets JSON.
    An unreachable database answers 503.
    """

    def answer(exc: Exception) -> ResponseReturnValue:
        shown = pages.get(request.blueprint or "")
        return shown(exc) if shown is not None else as_json(exc)

    for base in (*errors.DomainError, CSRFError):
        app.register_error_handler(base, answer)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
