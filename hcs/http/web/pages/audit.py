"""The audit log, newest first, with filters."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from hcs import audit
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp

PAGE_SIZE = 50
FILTERS = ("actor", "action", "target")


@bp.get("/audit")
@allow("read", "auditor", "admin")
def audit_log() -> ResponseReturnValue:
    """Who did what to which target, filtered by actor, action and target."""
    args = {name: request.args.get(name, "").strip() for name in FILTERS}
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    entries, total = audit.list_entries(
        db_session(),
        actor=args["actor"] or None,
        action=args["action"] or None,
        target=args["target"] or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "pages/audit.html", entries=entries, total=total, args=args, page=page, pages=pages
    )
