"""The editor's pages: templates, the draft editor with live preview, review and sign-off."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from hcs.exceptions import PermissionDenied
from templates_store.errors import Conflict, NotFound

bp = Blueprint("pages", __name__, template_folder="../templates")


@bp.errorhandler(PermissionDenied)
def _forbidden(exc: PermissionDenied) -> ResponseReturnValue:
    return render_template("pages/error.html", title="Not allowed", message=str(exc)), 403


@bp.errorhandler(NotFound)
def _missing(exc: NotFound) -> ResponseReturnValue:
    return render_template("pages/error.html", title="Not found", message=str(exc)), 404


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> ResponseReturnValue:
    return render_template("pages/error.html", title="Not possible now", message=str(exc)), 409


@bp.errorhandler(CSRFError)
def _expired_form(exc: CSRFError) -> ResponseReturnValue:
    message = "The form expired or did not come from this site. Go back, reload and try again."
    return render_template("pages/error.html", title="Form refused", message=message), 400


from hcs.web.pages import (  # noqa: E402, F401  (their routes)
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
    review,
    signoff,
    transfers,
)
