"""Administration: people and their roles, API keys (shown once), and the approval policies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from hcs import identity
from hcs.dispatch.provider_status import channel_status
from hcs.governance.policies import SEVERITIES, all_policies, policy_for, update_policy
from hcs.http.auth import allow
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from templates_store.errors import Conflict, ValidationFailed
from templates_store.orm import utcnow

NO_STORE = {"Cache-Control": "no-store"}


def _people(errors: dict[str, list[str]] | None = None, **shown: str) -> ResponseReturnValue:
    status = 422 if errors else 200
    users = identity.list_users(db_session())
    page = render_template(
        "pages/admin_users.html", users=users, roles_=identity.ROLES, errors=errors or {}, **shown
    )
    return page, status, NO_STORE


@bp.get("/admin/users")
@allow("admin", "admin")
def admin_users() -> ResponseReturnValue:
    """Everyone, their roles and whether they may sign in."""
    return _people()


@bp.post("/admin/users")
@allow("admin", "admin")
def create_person() -> ResponseReturnValue:
    """Add a person; a generated password is shown once, on this answer only."""
    session = db_session()
    email = request.form.get("email", "")
    try:
        _, password = identity.create_user(
            session,
            email=email,
            roles=request.form.getlist("roles"),
            password=request.form.get("password") or None,
            actor=person().email,
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        return _people(exc.errors if isinstance(exc, ValidationFailed) else {"email": [str(exc)]})
    session.commit()
    return _people(created=email, password=password or "")


@bp.post("/admin/users/<path:email>")
@allow("admin", "admin")
def change_person(email: str) -> ResponseReturnValue:
    """Replace a person's roles, or disable or enable them."""
    session, actor = db_session(), person().email
    action = request.form.get("action", "roles")
    try:
        if action == "disable":
            identity.disable_user(session, email, actor=actor)
        elif action == "enable":
            identity.enable_user(session, email, actor=actor)
        else:
            identity.set_roles(session, email, request.form.getlist("roles"), actor=actor)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        return _people({email: [str(exc)]})
    session.commit()
    flash(f"{email}: saved.")
    return redirect(url_for("pages.admin_users"))


def _keys(errors: dict[str, list[str]] | None = None, **shown: str) -> ResponseReturnValue:
    keys = identity.list_api_keys(db_session())
    page = render_template(
        "pages/admin_keys.html", keys=keys, scopes=identity.SCOPES, errors=errors or {}, **shown
    )
    return page, 422 if errors else 200, NO_STORE


@bp.get("/admin/keys")
@allow("admin", "admin")
def admin_keys() -> ResponseReturnValue:
    """The API keys: name, prefix, scopes, whose, last use; never the key itself."""
    return _keys()


@bp.post("/admin/keys")
@allow("admin", "admin")
def create_key() -> ResponseReturnValue:
    """A new key, shown once on this answer and never again (only its hash is stored)."""
    session = db_session()
    try:
        key, secret = identity.create_api_key(
            session,
            name=request.form.get("name", "").strip(),
            scopes=request.form.getlist("scopes"),
            user_email=request.form.get("user_email", "").strip() or None,
            actor=person().email,
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        return _keys(exc.errors if isinstance(exc, ValidationFailed) else {"name": [str(exc)]})
    session.commit()
    return _keys(created=key.name, secret=secret)


@bp.post("/admin/keys/<name>/revoke")
@allow("admin", "admin")
def revoke_key(name: str) -> ResponseReturnValue:
    """Revoke a key: it stops working at once."""
    session = db_session()
    identity.revoke_api_key(session, name, actor=person().email)
    session.commit()
    flash(f"Key {name} revoked.")
    return redirect(url_for("pages.admin_keys"))


@bp.get("/admin/policies")
@allow("review", "admin", "reviewer")
def admin_policies() -> ResponseReturnValue:
    """Each category's approval stages, checks, link allowlist and re-review period."""
    return render_template("pages/admin_policies.html", policies=all_policies(db_session()))


def _policy_changes(form: MultiDict[str, str]) -> dict[str, Any]:
    """The policy as the form posts it: one `name: role` stage a line, one domain a line."""
    stages = []
    for line in form.get("stages", "").splitlines():
        name, _, role = line.partition(":")
        if line.strip():
            stages.append({"name": name.strip(), "role": role.strip()})
    days = form.get("review_days", "").strip()
    if not days.isdigit():
        raise ValidationFailed({"review_days": ["must be a whole number of days, 1 to 3650"]})
    checks = {
        name[len("check.") :]: level for name, level in form.items() if name.startswith("check.")
    }
    domains = [line.strip() for line in form.get("link_domains", "").splitlines() if line.strip()]
    return {"stages": stages, "review_days": int(days), "checks": checks, "link_domains": domains}


def _policy_page(
    category: str, errors: dict[str, list[str]] | None = None, status: int = 200
) -> ResponseReturnValue:
    policy = policy_for(db_session(), category)
    return render_template(
        "pages/admin_policy.html", policy=policy, errors=errors or {}, severities=SEVERITIES
    ), status


@bp.get("/admin/policies/<category>")
@allow("admin", "admin")
def edit_policy(category: str) -> ResponseReturnValue:
    """One category's policy as a form."""
    return _policy_page(category)


@bp.post("/admin/policies/<category>")
@allow("admin", "admin")
def save_policy(category: str) -> ResponseReturnValue:
    """Change a category's stages, re-review period, checks and link allowlist (audited)."""
    session = db_session()
    try:
        update_policy(session, category, _policy_changes(request.form), actor=person().email)
    except ValidationFailed as exc:
        session.rollback()
        return _policy_page(category, exc.errors, 422)
    session.commit()
    flash(f"The {category} policy is saved.")
    return redirect(url_for("pages.admin_policies"))


@bp.get("/admin/providers")
@allow("admin", "admin")
def admin_providers() -> ResponseReturnValue:
    """Each channel's provider and fallback, what its messages became in the last day, the AI."""
    settings = services().settings
    since = utcnow() - timedelta(days=1)
    return render_template(
        "pages/admin_providers.html",
        channels=channel_status(db_session(), settings, since),
        settings=settings,
        worker="Celery" if settings.broker_url else "in-process",
    )
