"""The signed-in person's own account: the phone tests by SMS and chat go to, once proven."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from hcs.dispatch.codes import code_secret, code_sender
from hcs.errors import CodeRefused, SendTestFailed, TooSoon, ValidationFailed
from hcs.http.auth import allow
from hcs.http.error_handlers import status_of
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.identity.phones import confirm_code, pending_code, request_code
from hcs.identity.users import get_user, set_phone


def _page(phone: str | None = None, errors: dict[str, list[str]] | None = None) -> str:
    session = db_session()
    user = get_user(session, person().email)
    return render_template(
        "pages/account.html",
        user=user,
        phone=user.phone or "" if phone is None else phone,
        pending=pending_code(session, user),
        errors=errors or {},
    )


@bp.get("/account")
@allow("read")
def account() -> ResponseReturnValue:
    """Who you are, your roles and groups, your phone and whether it is verified."""
    return _page()


@bp.post("/account")
@allow("read")
def account_save() -> ResponseReturnValue:
    """Set your own phone (nobody else's) and send a code to it; empty clears it."""
    session, email, phone = db_session(), person().email, request.form.get("phone", "")
    settings = services().settings
    try:
        if phone.strip():
            request_code(
                session,
                email,
                phone,
                secret=code_secret(settings),
                send=code_sender(settings),
                actor=email,
            )
        else:
            set_phone(session, email, "", actor=email)
    except (ValidationFailed, TooSoon, SendTestFailed) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"phone": [str(exc)]}
        return _page(phone, errors), status_of(exc)
    session.commit()
    flash("A code was sent to your phone: enter it below." if phone.strip() else "Saved.")
    return redirect(url_for("pages.account"), 303)


@bp.post("/account/phone/verify")
@allow("read")
def account_verify() -> ResponseReturnValue:
    """Prove your phone with the code sent to it."""
    session, email = db_session(), person().email
    secret = code_secret(services().settings)
    try:
        confirm_code(session, email, request.form.get("code", ""), secret=secret, actor=email)
    except CodeRefused as exc:
        session.commit()  # the refused try counts towards the limit
        return _page(errors=exc.errors), 422
    except ValidationFailed as exc:
        session.rollback()
        return _page(errors=exc.errors), 422
    session.commit()
    flash("Your phone number is verified: tests by SMS and chat go to it.")
    return redirect(url_for("pages.account"), 303)
