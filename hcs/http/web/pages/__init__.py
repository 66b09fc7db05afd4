"""The editor's pages: templates, the draft editor with live preview, review and sign-off."""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from hcs.errors import AuthenticationFailed, MissingRole
from hcs.http.error_handlers import TITLES, message_of, status_of
from hcs.http.web.pages.guard import is_htmx, sign_in_first

bp = Blueprint("pages", __name__, template_folder="../templates")


def refused(title: str, message: str, status: int) -> ResponseReturnValue:
    """An error page; for htmx, which swaps no 4xx, the message alone for site.js to show."""
    template = "pages/_refusal.html" if is_htmx() else "pages/error.html"
    return render_template(template, title=title, message=message), status


# What a version's status reads as on a page (its value stays in `data-status`).
STATUS_LABELS = {
    "draft": "Draft",
    "in_review": "In review",
    "approved": "Approved",
    "rejected": "Rejected",
    "published": "Published",
    "superseded": "Superseded",
    "empty": "No versions yet",
}


@bp.app_template_filter("status_label")
def status_label(status: object) -> str:
    """`in_review` → `In review`: a status as people read it."""
    value = str(getattr(status, "value", status))
    return STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


EXPIRED_FORM = "The form expired or did not come from this site. Go back, reload and try again."


def refusal(exc: Exception) -> ResponseReturnValue:
    """How a page shows an error: the sign-in form for no one signed in, else an error page.

    The status and message come from `hcs.http.error_handlers`, as for the API.
    """
    if isinstance(exc, AuthenticationFailed) or (
        isinstance(exc, CSRFError) and is_htmx() and not current_user.is_authenticated
    ):
        return sign_in_first()  # signing out cleared the token with the session
    code = status_of(exc)
    if isinstance(exc, MissingRole):
        message = f"This page needs {exc.needed}."
    elif isinstance(exc, CSRFError):
        message = EXPIRED_FORM
    else:
        message = message_of(exc)
    return refused(TITLES.get(code, HTTPStatus(code).phrase), message, code)


from hcs.http.web.pages import (  # noqa: E402, F401  (their routes)
    account,
    admin,
    archive,
    audit,
    catalogue,
    component_editor,
    components,
    design,
    editor,
    grid,
    groups,
    jobs,
    letters,
    messages,
    proofs,
    review,
    signoff,
    transfers,
    visual,
)
