"""`/api/docs`: Swagger UI served from the installed package, under the pages' strict policy.

flask-smorest's own page loads Swagger UI from a CDN (blank offline) and starts it with an
inline script; this page takes the assets `flask-swagger-ui` ships and starts them with a
script file of ours, so `default-src 'self'` holds with no 'unsafe-inline'.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui  # type: ignore[import-untyped]
from flask import Blueprint, abort, render_template, send_from_directory
from flask.typing import ResponseReturnValue

ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
SERVED = frozenset(
    {"swagger-ui.css", "index.css", "swagger-ui-bundle.js", "favicon-32x32.png", "LICENSE"}
)

bp = Blueprint("api_docs", __name__, template_folder="templates")


@bp.get("/api/docs")
def page() -> ResponseReturnValue:
    """The interactive API documentation of `/api/openapi.json`."""
    version = (ASSETS / "VERSION").read_text().strip()
    return render_template("api_docs.html", version=version)


@bp.get("/api/docs/assets/<name>")
def asset(name: str) -> ResponseReturnValue:
    """One of Swagger UI's files, as the package ships it."""
    if name not in SERVED:
        abort(404)
    return send_from_directory(ASSETS, name, max_age=86400)
