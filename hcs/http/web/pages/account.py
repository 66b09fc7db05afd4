"""The signed-in person's own account: the phone number tests by SMS and chat go to."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.errors import ValidationFailed
from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.identity.users import get_user, set_phone


@bp.get("/account")
@allow("read")
def account() -> ResponseReturnValue:
    """Who you are, your roles and groups, and your phone number."""
    user = get_user(db_session(), person().email)
    return render_template("pages/account.html", user=user, phone=user.phone or "", errors={})


@bp.post("/account")
@allow("read")
def account_save() -> ResponseReturnValue:
    """Change your own phone number (nobody else's)."""
    session, email = db_session(), person().email
    phone = request.form.get("phone", "")
    try:
        set_phone(session, email, phone, actor=email)
    except ValidationFailed as exc:
        session.rollback()
        user = get_user(session, email)
        page = render_template("pages/account.html", user=user, phone=phone, errors=exc.errors)
        return page, 422
    session.commit()
    flash("Saved.")
    return redirect(url_for("pages.account"))
