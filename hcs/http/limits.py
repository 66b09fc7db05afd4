"""API rate limits per caller, throttled failed authentications per address, refusals counted.

Each API key (or signed-in person, or else address) may make `HCS_API_RATE_LIMIT` calls
(default `6000/minute`); an address whose calls failed authentication too often is refused for
a while. Both answer 429 with `Retry-After`. Counters live in the limiter's storage: memory for
one process, Redis (`HCS_RATELIMIT_STORAGE_URL`, else a `redis://` broker) shared by several.
Every API answer tells the caller its window: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (epoch seconds). Every 401 and 403 is logged without credentials and
counted in `/metrics`.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from limits import RateLimitItem, parse
from prometheus_client import Counter

from hcs.http.auth import limiter
from hcs.http.error_handlers import error_body
from hcs.infrastructure.config import Settings

log = logging.getLogger("hcs.auth")
REFUSALS = Counter("hcs_auth_refusals", "Calls refused 401 or 403", ["status"])
FAILED_AUTHENTICATIONS = parse("60/minute")


def _is_api() -> bool:
    return request.path.startswith("/api/v1/")


def _caller() -> str:
    """Who a call counts against: the key's public prefix, the person, else the address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.count("_") >= 2:
        return "key:" + token.strip().split("_")[1][:16]
    if current_user.is_authenticated:
        return f"user:{current_user.user_id}"
    return f"address:{request.remote_addr}"


def _too_many(item: RateLimitItem, *identifiers: str) -> ResponseReturnValue:
    reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    wait = max(1, math.ceil(reset - time.time()))
    body = error_body(429, message=f"too many requests; retry in {wait} s")
    return jsonify(body), 429, {"Retry-After": str(wait)}


def _note_window(item: RateLimitItem, *identifiers: str) -> None:
    """Keep the caller's window for the `X-RateLimit-*` headers of this answer."""
    stats = limiter.limiter.get_window_stats(item, *identifiers)
    g.rate_limit = {
        "X-RateLimit-Limit": str(item.amount),
        "X-RateLimit-Remaining": str(max(0, stats.remaining)),
        # When the window resets, in seconds since the epoch (as GitHub and SendGrid send it).
        "X-RateLimit-Reset": str(math.ceil(stats.reset_time)),
    }


def _add_window(response: Response) -> Response:
    """Tell API callers their limit, what is left of it, and when it resets."""
    window = g.pop("rate_limit", None)
    if window is not None:
        response.headers.update(window)
    return response


def _limit(api_limit: RateLimitItem) -> ResponseReturnValue | None:
    if not _is_api():
        return None
    try:
        return _check(api_limit)
    except Exception:  # the counters' store (Redis) is away: limits fail open, sends go on
        log.warning("rate limits not checked: their storage is unreachable", exc_info=True)
        return None


def _check(api_limit: RateLimitItem) -> ResponseReturnValue | None:
    address = request.remote_addr or ""
    if not limiter.limiter.test(FAILED_AUTHENTICATIONS, "auth-failed", address):
        return _too_many(FAILED_AUTHENTICATIONS, "auth-failed", address)
    caller = _caller()
    allowed = limiter.limiter.hit(api_limit, "api", caller)
    _note_window(api_limit, "api", caller)
    return None if allowed else _too_many(api_limit, "api", caller)


def _count_refusal(response: Response) -> Response:
    if response.status_code in (401, 403):
        REFUSALS.labels(status=str(response.status_code)).inc()
        # The route's rule, never its path: a path can hold a recipient's address.
        rule = request.url_rule.rule if request.url_rule else "(no route)"
        log.warning(
            "refused %s %s %s from %s",
            response.status_code,
            request.method,
            rule,
            request.remote_addr,
            extra={"status": response.status_code, "caller": _caller()},
        )
        if response.status_code == 401 and _is_api():
            try:
                limiter.limiter.hit(
                    FAILED_AUTHENTICATIONS, "auth-failed", request.remote_addr or ""
                )
            except Exception:  # unreachable storage: counted nowhere, refused all the same
                log.warning("a failed authentication was not counted", exc_info=True)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Limit API calls per caller and count refusals; the limiter itself is set up by auth."""
    api_limit = parse(settings.api_rate_limit)
    app.before_request(lambda: _limit(api_limit))
    app.after_request(_count_refusal)
    app.after_request(_add_window)
