"""Reviewer groups: who holds which approval stages, and each person's groups, for admins.

The same domain function as `hcs users groups` and `POST /api/v1/users/{email}/groups`.
"""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs import identity
from hcs.errors import NotFound, ValidationFailed
from hcs.governance.policies import all_policies
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.identity.groups import change_groups, members_by_group

NO_STORE = {"Cache-Control": "no-store"}


def _stages_held() -> dict[str, list[str]]:
    """Per group, the `category: stage` pairs of the policies in force that it decides."""
    held: dict[str, list[str]] = {}
    for policy in all_policies(db_session()):
        for name in policy.stage_names:
            held.setdefault(policy.group_of(name), []).append(f"{policy.category}: {name}")
    return held


def _page(errors: dict[str, list[str]] | None = None, status: int = 200) -> ResponseReturnValue:
    session = db_session()
    held = _stages_held()
    members = members_by_group(session)
    page = render_template(
        "pages/admin_groups.html",
        groups=sorted(members.keys() | held.keys()),
        members=members,
        held=held,
        users=identity.list_users(session),
        errors=errors or {},
    )
    return page, status, NO_STORE


@bp.get("/admin/groups")
@allow("admin", "admin")
def admin_groups() -> ResponseReturnValue:
    """Every reviewer group, the stages it holds and its members; each person's groups."""
    return _page()


@bp.post("/admin/groups/<path:email>")
@allow("admin", "admin")
def change_person_groups(email: str) -> ResponseReturnValue:
    """Add a person to groups (named in a list) and take them out of others (audited)."""
    session = db_session()
    add = [name for name in re.split(r"[\s,]+", request.form.get("add", "")) if name]
    try:
        change_groups(
            session, email, add=add, remove=request.form.getlist("remove"), actor=person().email
        )
    except (ValidationFailed, NotFound) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"email": [str(exc)]}
        return _page({email: [f"{k}: {'; '.join(v)}" for k, v in errors.items()]}, 422)
    session.commit()
    flash(f"{email}: groups saved.")
    return redirect(url_for("pages.admin_groups"))
