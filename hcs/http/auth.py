"""Who is calling: API keys and web sessions, CSRF, login rate limits, cookies and the CSP."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from hcs.errors import AuthenticationFailed, MissingRole
from hcs.http.counters import LocalCounters
from hcs.http.extensions import db_session, services
from hcs.identity import Principal, User, end_sessions, principal_for, touch_key
from hcs.identity.models import ROLES
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import begin_read, end_read

F = TypeVar("F", bound=Callable[..., Any])

# Pages carry no inline script or style; previews that need more set their own header.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# This process's counters without a timer thread (`hcs.http.counters`).
LOCAL_COUNTERS = LocalCounters.STORAGE_SCHEME[0] + "://"


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _sends_bearer() -> bool:
    return _is_api() and request.headers.get("Authorization", "").lower().startswith("bearer ")


class _CSRF(CSRFProtect):  # type: ignore[misc]
    """CSRF checks on every form, except for API calls authenticated by an API key.

    A browser never adds an `Authorization` header by itself, so a key-authenticated call cannot
    be forged cross-site; the web editor's own API calls send the token in `X-CSRFToken`. Pages
    know people by their session only, so a page always checks its token.
    """

    def protect(self, apply_exemptions: bool = False) -> None:
        if apply_exemptions and _sends_bearer():
            return
        # An API call from nobody signed in carries no session to forge: it gets its 401.
        if _is_api() and not current_user.is_authenticated:
            return
        super().protect(apply_exemptions=apply_exemptions)


class _Limiter(Limiter):
    """Flask-Limiter, for the sign-in form's limits only: an API call skips its check at once.

    The API's limits are `hcs.http.limits`'. A request filter would exempt API calls too, but
    only after the extension resolved the route's limits and exemptions: about 4% of a single
    send's CPU, measured.
    """

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and _is_api():
            return
        super()._check_request_limit(callable_name, in_middleware)


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, their signer built once per set of keys, not per request
    (every API call opens a session, if only to find no cookie)."""

    def __init__(self) -> None:
        self._signers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._signers:
            self._signers[keys] = super().get_signing_serializer(app)
        return self._signers[keys]


login_manager = LoginManager()
csrf = _CSRF()
limiter = _Limiter(key_func=get_remote_address)


class SessionUser(UserMixin):  # type: ignore[misc]
    """A signed-in person as Flask-Login holds them: their id and their principal."""

    def __init__(self, user: User) -> None:
        self.principal = principal_for(user)
        self.user_id = user.id
        self.session_id = f"{user.id}:{user.session_generation}:{_fingerprint(user)}"

    def get_id(self) -> str:
        return self.session_id


def _fingerprint(user: User) -> str:
    # Part of the session id: a new password ends every session signed in with the old one.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@login_manager.user_loader
def _load_user(session_id: str) -> SessionUser | None:
    user_id, _, _ = session_id.partition(":")
    user = db_session().get(User, int(user_id)) if user_id.isdigit() else None
    # The id names the person's session generation: a sign-out, disabling or a change of roles
    # or password raised it, and every session signed in before is over (a copied cookie too).
    if user is None or not user.is_active or SessionUser(user).session_id != session_id:
        return None
    return SessionUser(user)


def sign_in(user: User) -> None:
    """Start a fresh web session for `user` (the old session's contents are dropped)."""
    session.clear()
    login_user(SessionUser(user))
    session.permanent = True
    session[RENEWED] = int(time.time())


# A session in use is renewed (its cookie set again, to expire HCS_SESSION_HOURS from now) at
# most this often, not on every request: see SESSION_REFRESH_EACH_REQUEST below.
RENEW_EVERY = 300  # seconds
RENEWED = "_seen"


def _renew(response: Response) -> Response:
    if session.permanent and not session.modified:
        now = int(time.time())
        if now - int(session.get(RENEWED, 0)) >= RENEW_EVERY:
            session[RENEWED] = now  # modified: the cookie is set again with a new expiry
    return response


def sign_out() -> None:
    """End this person's web sessions: this one and any copy of its cookie, on every device."""
    if current_user.is_authenticated:
        user = db_session().get(User, current_user.user_id)
        if user is not None:
            end_sessions(user)
            db_session().commit()
    logout_user()
    session.clear()


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "") if _is_api() else ""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send the API key as 'Authorization: Bearer <key>'")
    return token.strip()


def _principal_from_request() -> Principal | None:
    token = _bearer_token()
    if token is not None:
        sessions = db_session()
        begin_read(sessions)
        principal, stale = services().keys.authenticate(sessions, token)
        if stale or request.endpoint not in READS_ON:
            end_read(sessions)
        if stale:
            touch_key(sessions, principal)
            sessions.commit()  # last_used_at, whatever becomes of the request
        return principal
    if current_user.is_authenticated:
        return current_user.principal  # type: ignore[no-any-return]
    return None


# Endpoints whose views go on reading in the key check's read transaction, and end it
# themselves (`hcs.infrastructure.db.end_read`, or `write_next` to write on the same connection).
# Every other view starts fresh.
READS_ON: set[str] = set()


def current_principal() -> Principal | None:
    """The caller: an API key's principal, the signed-in person's, or None.

    Raises AuthenticationFailed when an `Authorization` header is present but not a valid key.
    """
    if "principal" not in g:
        g.principal = _principal_from_request()
    return g.principal  # type: ignore[no-any-return]


def allow(scope: str, *roles: str) -> Callable[[F], F]:
    """Let a caller through when one of `roles` (default: any role) may act with `scope`.

    The one permission check of the API and the pages alike: a key needs `scope`, a person one
    of `roles`. No caller: AuthenticationFailed (401; pages send to the sign-in form). A caller
    without them: MissingRole (403).
    """
    permitted = roles or ROLES

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise AuthenticationFailed("sign in or send an API key as a Bearer token")
            if not any(principal.may(role, scope) for role in permitted):
                raise MissingRole(scope, roles)
            return view(*args, **kwargs)

        guarded.allows = (scope, permitted)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def caller() -> Principal:
    """The principal the current request acts as (inside a view guarded by `allow`)."""
    principal = current_principal()
    assert principal is not None, "caller() outside a view guarded by allow()"
    return principal


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Pages hold what a person may see: after sign-out the back button asks the server
        # again (and lands on the sign-in form) instead of showing a copy the browser kept.
        response.headers.setdefault("Cache-Control", "no-store")
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="hcs"')
    if current_app.config["HCS_HTTPS"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _limit_storage(settings: Settings) -> str:
    """Where rate-limit counters live: as set, else the Redis broker (shared), else memory."""
    if settings.ratelimit_storage_url:
        return settings.ratelimit_storage_url
    if settings.broker_url.startswith("redis"):
        return settings.broker_url
    return LOCAL_COUNTERS


def init_app(app: Flask, settings: Settings) -> None:
    """Sessions, CSRF, login rate limits and security headers for `app`."""
    https = settings.public_url.startswith("https://") and not settings.insecure_cookies
    app.config.update(
        HCS_HTTPS=https,
        # Served over https, the cookie is `__Host-` prefixed: browsers then refuse it unless it
        # is Secure, for this host only and the whole site, so no subdomain can plant one.
        SESSION_COOKIE_NAME="__Host-session" if https else "session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.insecure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=not settings.insecure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # The cookie holds the whole session, so an answer that sets it again puts back what
        # its request read: a live preview in flight when Save is pressed would drop the
        # "Saved." the save put there. A session is renewed by `_renew` instead.
        SESSION_REFRESH_EACH_REQUEST=False,
        # The token lives as long as the session, which expires on its own.
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=_limit_storage(settings),
        RATELIMIT_HEADERS_ENABLED=True,  # a 429 says when to retry (Retry-After)
        RATELIMIT_SWALLOW_ERRORS=True,  # counters unreachable: sign-in still works
    )
    app.session_interface = _CookieSessions()
    login_manager.login_view = "auth.login"
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_renew)
    app.after_request(_security_headers)
