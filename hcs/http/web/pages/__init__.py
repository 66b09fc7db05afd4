"""The editor's pages: templates, the draft editor with live preview, review and sign-off."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from hcs.errors import PermissionDenied
from hcs.http.web.pages.guard import is_htmx, sign_in_first
from templates_store.errors import Conflict, NotFound

bp = Blueprint("pages", __name__, template_folder="../templates")


def refused(title: str, message: str, status: int) -> ResponseReturnValue:
    """An error page; for htmx, which swaps no 4xx, the message alone for site.js to show."""
    template = "pages/_refusal.html" if is_htmx() else "pages/error.html"
    return render_template(template, title=title, message=message), status


@bp.errorhandler(PermissionDenied)
def _forbidden(exc: PermissionDenied) -> ResponseReturnValue:
    return refused("Not allowed", str(exc), 403)


@bp.errorhandler(NotFound)
def _missing(exc: NotFound) -> ResponseReturnValue:
    return refused("Not found", str(exc), 404)


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> ResponseReturnValue:
    return refused("Not possible now", str(exc), 409)


@bp.errorhandler(CSRFError)
def _expired_form(exc: CSRFError) -> ResponseReturnValue:
    if is_htmx() and not current_user.is_authenticated:
        return sign_in_first()  # signing out cleared the token with the session
    message = "The form expired or did not come from this site. Go back, reload and try again."
    return refused("Form refused", message, 400)


from hcs.http.web.pages import (  # noqa: E402, F401  (their routes)
    admin,
    archive,
    audit,
    catalogue,
    component_editor,
    components,
    editor,
    grid,
    jobs,
    letters,
    messages,
    review,
    signoff,
    transfers,
)
