"""Web sign-in, sessions, CSRF, rate limits, security headers and `allow`, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Blueprint, g, jsonify
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from hcs.audit import AuditEntry
from hcs.http.auth import allow
from hcs.http.web.auth import LOGIN_FAILED
from hcs.identity import (
    ApiKey,
    create_api_key,
    disable_user,
    enable_user,
    revoke_api_key,
    set_password,
    set_roles,
)
from hcs.infrastructure.db import transaction
from tests.support.world import PASSWORD, World

probe = Blueprint("probe", __name__)


@probe.get("/api/probe/review")
@allow("review", "reviewer")
def review() -> ResponseReturnValue:
    return jsonify(email=g.principal.email)


@probe.post("/api/probe/send")
@allow("send", "author")
def send() -> ResponseReturnValue:
    return jsonify(email=g.principal.email), 202


# Keys of these tests' own, next to the world's (whose "system" key is the backend's).
KEYS = {
    "lee": ("lee-key", ["review", "read"], "lee@example.com"),
    "lee-read": ("lee-read", ["read"], "lee@example.com"),
    "ana": ("ana-key", ["send", "templates"], "ana@example.com"),
}


def _session(world: World) -> AbstractContextManager[Session]:
    return transaction(world.app.extensions["hcs"].sessions)


def _probed(world: World) -> World:
    """The world with the probe views and the keys these tests name."""
    world.app.register_blueprint(probe)
    with _session(world) as session:
        for label, (name, scopes, owner) in KEYS.items():
            _, world.keys[label] = create_api_key(
                session, name=name, scopes=scopes, user_email=owner, actor="t"
            )
    return world


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return _probed(make_world(insecure_cookies=False))


def _token(page: TestResponse) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found, page.text
    return found[1]


def _sign_in(
    client: FlaskClient, email: str, password: str = PASSWORD, **extra: str
) -> TestResponse:
    token = _token(client.get("/login"))
    form = {"email": email, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=form)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_signing_in_shows_who_you_are_and_your_roles(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/").headers["Location"] == "/login?next=/"
    answer = _sign_in(client, "Lee@Example.com")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "lee@example.com" in home.text and "<li>reviewer</li>" in home.text


def test_a_wrong_password_and_an_unknown_email_get_the_same_message(world: World) -> None:
    client = world.app.test_client()
    wrong = _sign_in(client, "lee@example.com", "not the password")
    unknown = _sign_in(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 200
    assert LOGIN_FAILED in wrong.text and LOGIN_FAILED in unknown.text
    assert client.get("/").status_code == 302
    with _session(world) as session:
        failed = select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        entries = session.scalars(failed.order_by(AuditEntry.id)).all()
    assert [entry.target for entry in entries] == ["lee@example.com", "nobody@example.com"]
    assert entries[0].actor == "anonymous" and entries[0].detail == {"address": "127.0.0.1"}


def test_next_leads_only_to_a_page_of_this_site(world: World) -> None:
    cases = [
        ("/api/probe/review", "/api/probe/review"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]
    for number, (target, landing) in enumerate(cases, start=1):
        client = world.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"127.0.0.{number}"  # each under the rate limit
        answer = _sign_in(client, "lee@example.com", next=target)
        assert answer.headers["Location"] == landing


def test_a_disabled_person_cannot_sign_in_and_loses_their_session(world: World) -> None:
    client = world.app.test_client()
    _sign_in(client, "ana@example.com")
    assert client.get("/").status_code == 200
    with _session(world) as session:
        disable_user(session, "ana@example.com", actor="t")
    assert client.get("/").status_code == 302
    assert LOGIN_FAILED in _sign_in(client, "ana@example.com").text


def test_a_new_password_ends_open_sessions(world: World) -> None:
    client = world.app.test_client()
    _sign_in(client, "ana@example.com")
    with _session(world) as session:
        set_password(session, "ana@example.com", "another long passphrase", actor="t")
    assert client.get("/").status_code == 302


def test_signing_out_ends_the_session(world: World) -> None:
    client = world.app.test_client()
    _sign_in(client, "ana@example.com")
    token = _token(client.get("/"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_attempts_are_rate_limited(world: World) -> None:
    client = world.app.test_client()
    for _ in range(5):
        assert _sign_in(client, "lee@example.com", "guess guess guess").status_code == 200
    refused = _sign_in(client, "lee@example.com")
    assert refused.status_code == 429 and "Too many sign-in attempts" in refused.text
    assert _sign_in(client, "ana@example.com").status_code == 302  # another email still works


def test_forms_without_the_csrf_token_are_refused(world: World) -> None:
    client = world.app.test_client()
    client.get("/login")
    form = {"email": "lee@example.com", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 400
    assert client.post("/login", data=form | {"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 302
    _sign_in(client, "lee@example.com")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_session_calls_to_the_api_need_the_csrf_header_and_key_calls_do_not(
    world: World,
) -> None:
    client = world.app.test_client()
    _sign_in(client, "ana@example.com")
    token = _token(client.get("/"))
    refused = client.post("/api/probe/send", json={})
    assert refused.status_code == 400 and refused.get_json()["code"] == 400
    assert (
        client.post("/api/probe/send", json={}, headers={"X-CSRFToken": token}).status_code == 202
    )
    keyed = world.app.test_client().post(
        "/api/probe/send", json={}, headers=_bearer(world.keys["ana"])
    )
    assert keyed.status_code == 202 and keyed.get_json() == {"email": "ana@example.com"}


@pytest.mark.parametrize(("insecure", "secure_flag"), [(False, True), (True, False)])
def test_the_session_cookie_is_http_only_lax_and_expires(
    make_world: Callable[..., World], insecure: bool, secure_flag: bool
) -> None:
    world = _probed(make_world(insecure_cookies=insecure, session_hours=2))
    client = world.app.test_client()
    answer = _sign_in(client, "ana@example.com")
    cookie = answer.headers["Set-Cookie"]
    flags = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in flags and "SameSite=Lax" in flags
    assert ("Secure" in flags) is secure_flag
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=1)


def test_pages_carry_a_content_security_policy_they_satisfy(world: World) -> None:
    page = world.app.test_client().get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    # Scripts come from static files only: no inline script, no inline style.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "style=" not in page.text
    assert "<style" not in page.text
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_docs_page_loads_swagger_ui_from_our_origin_under_the_strict_policy(
    world: World,
) -> None:
    client = world.app.test_client()
    page = client.get("/api/docs")
    policy = page.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'self'") and "unsafe-inline" not in policy
    assert "http" not in policy and "frame-ancestors 'none'" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "style=" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets)
    for asset in assets:
        with client.get(asset) as answer:  # a file answer: closed here
            assert answer.status_code == 200, asset
    assert client.get("/api/docs/assets/..%2f__init__.py").status_code == 404


def test_no_credentials_answer_401_with_a_bearer_challenge(world: World) -> None:
    answer = world.app.test_client().get("/api/probe/review")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.get_json()["code"] == 401 and answer.get_json()["status"] == "Unauthorized"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Bearer hcs_00000000_" + "a" * 43,
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "Bearer ",
    ],
)
def test_malformed_or_unknown_keys_answer_401(world: World, header: str) -> None:
    answer = world.app.test_client().get("/api/probe/review", headers={"Authorization": header})
    assert answer.status_code == 401 and "WWW-Authenticate" in answer.headers


def test_a_revoked_key_answers_401(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/api/probe/review", headers=_bearer(world.keys["lee"])).status_code == 200
    with _session(world) as session:
        revoke_api_key(session, "lee-key", actor="t")
    assert client.get("/api/probe/review", headers=_bearer(world.keys["lee"])).status_code == 401


def test_a_key_without_the_scope_or_a_person_without_the_role_answers_403(world: World) -> None:
    client = world.app.test_client()
    narrow = client.get("/api/probe/review", headers=_bearer(world.keys["lee-read"]))
    assert narrow.status_code == 403 and narrow.get_json()["code"] == 403
    author = world.app.test_client()
    _sign_in(author, "ana@example.com")
    assert author.get("/api/probe/review").status_code == 403
    reviewer = world.app.test_client()
    _sign_in(reviewer, "lee@example.com")
    assert reviewer.get("/api/probe/review").get_json() == {"email": "lee@example.com"}


def test_a_system_key_can_send_but_never_act_as_a_reviewer(world: World) -> None:
    client = world.app.test_client()
    headers = _bearer(world.keys["system"])
    sent = client.post("/api/probe/send", json={}, headers=headers)
    assert sent.status_code == 202 and sent.get_json() == {"email": "apikey:backend"}
    assert client.get("/api/probe/review", headers=headers).status_code == 403


def test_a_used_key_records_when_and_is_stored_only_as_a_hash(world: World) -> None:
    plaintext = world.keys["lee"]
    before = datetime.now(UTC)
    client = world.app.test_client()
    assert client.get("/api/probe/review", headers=_bearer(plaintext)).status_code == 200
    with _session(world) as session:
        key = session.scalars(select(ApiKey).where(ApiKey.name == "lee-key")).one()
        assert key.last_used_at is not None and key.last_used_at >= before - timedelta(seconds=1)
        rows = session.execute(text("SELECT * FROM api_keys")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    secret = plaintext.split("_", 2)[2]
    assert plaintext not in stored and secret not in stored


def _copied(client: FlaskClient, world: World) -> FlaskClient:
    """A second browser holding a copy of `client`'s session cookie."""
    thief = world.app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_signing_out_ends_every_copy_of_the_session(world: World) -> None:
    client = world.app.test_client()
    _sign_in(client, "lee@example.com")
    thief = _copied(client, world)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert client.post("/logout", data={"csrf_token": _token(client.get("/"))}).status_code == 302
    assert thief.get("/").status_code == 302
    assert thief.get("/api/probe/review").status_code == 401


def test_re_enabling_a_person_does_not_revive_their_old_sessions(world: World) -> None:
    client = world.app.test_client()
    _sign_in(client, "lee@example.com")
    with _session(world) as session:
        disable_user(session, "lee@example.com", actor="admin")
    assert client.get("/").status_code == 302
    with _session(world) as session:
        enable_user(session, "lee@example.com", actor="admin")
    assert client.get("/").status_code == 302
    assert client.get("/api/probe/review").status_code == 401
    _sign_in(client, "lee@example.com")
    assert client.get("/").status_code == 200


def test_a_change_of_roles_ends_the_persons_sessions(world: World) -> None:
    client = world.app.test_client()
    _sign_in(client, "lee@example.com")
    with _session(world) as session:
        set_roles(session, "lee@example.com", ["reviewer", "auditor"], actor="admin")
    assert client.get("/").status_code == 302


def test_over_https_the_cookie_is_host_prefixed_and_hsts_is_sent(
    make_world: Callable[..., World],
) -> None:
    world = _probed(make_world(public_url="https://hcs.example.com", insecure_cookies=False))
    try:
        client = world.app.test_client()
        answer = _sign_in(client, "lee@example.com")
        assert answer.status_code == 302
        [cookie] = answer.headers.getlist("Set-Cookie")
        assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        world.app.extensions["hcs"].engine.dispose()


def test_over_plain_http_there_is_no_hsts(world: World) -> None:
    assert "Strict-Transport-Security" not in world.app.test_client().get("/login").headers
