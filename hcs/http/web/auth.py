"""Signing in and out of the web editor, and the page that says who you are."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import InputRequired, Length

from hcs.errors import AuthenticationFailed
from hcs.http.auth import limiter, sign_in, sign_out
from hcs.http.error_handlers import message_of, status_of
from hcs.http.extensions import db_session
from hcs.http.web.worklist import waiting_for
from hcs.identity import authenticate_password, record_failed_login

bp = Blueprint("auth", __name__, template_folder="templates")

# Per address and email against guessing one password; per address against trying many emails.
LOGIN_LIMIT = "5 per minute"
LOGIN_LIMIT_PER_ADDRESS = "30 per minute"
LOGIN_FAILED = "The email or password is not correct."
EXPIRED_FORM = "The form expired or did not come from this site. Please try again."


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Email and password, with the CSRF token."""

    email = EmailField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])
    next = HiddenField()


def _address_and_email() -> str:
    email = request.form.get("email", "").strip().lower()[:254]
    return f"{request.remote_addr}|{email}"


def _local(target: str | None) -> str:
    """`target` when it is a path on this site, else the home page (no open redirects)."""
    target = target or ""
    # Browsers drop tabs and newlines and read "\\" as "/": "/\t/evil" would leave the site.
    odd = any(char <= " " or char == "\\" for char in target)
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not odd and not parts.netloc:
        return target
    return url_for("auth.home")


def _page(form: LoginForm, error: str = "", status: int = 200) -> ResponseReturnValue:
    return render_template("login.html", form=form, error=error), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, key_func=_address_and_email, methods=["POST"])
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; on success, the page asked for (`next`) or the home page."""
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_local(form.next.data))
    if not form.validate_on_submit():
        return _page(form, status=400 if form.errors else 200)
    session = db_session()
    try:
        user = authenticate_password(session, form.email.data, form.password.data)
    except AuthenticationFailed:
        session.rollback()
        record_failed_login(session, form.email.data, address=request.remote_addr or "")
        session.commit()
        return _page(form, LOGIN_FAILED)
    session.commit()
    sign_in(user)
    return redirect(_local(form.next.data))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session and go back to the sign-in form."""
    sign_out()
    return redirect(url_for("auth.login"))


@bp.get("/")
def home() -> ResponseReturnValue:
    """Who you are, your roles and what waits for you; the sign-in form when not signed in."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    principal = current_user.principal
    work = waiting_for(db_session(), principal)
    return render_template("home.html", principal=principal, work=work)


@bp.errorhandler(RateLimitExceeded)
def _too_many(exc: RateLimitExceeded) -> ResponseReturnValue:
    message = "Too many sign-in attempts. Wait a minute, then try again."
    return _page(LoginForm(), message, 429)


def refusal(exc: Exception) -> ResponseReturnValue:
    """How the sign-in form shows an error (an expired form): the form again, with why."""
    code = status_of(exc)
    if isinstance(exc, CSRFError):
        return _page(LoginForm(), EXPIRED_FORM, code)
    return _page(LoginForm(), message_of(exc), code)
