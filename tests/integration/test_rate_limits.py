"""API rate limits per key, failed authentications throttled per address, refusals counted."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from hcs.http.app import create_app
from hcs.identity import create_api_key, create_user
from hcs.infrastructure import migrate
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import transaction


@pytest.fixture
def app(fresh_database_url: str) -> Iterator[Flask]:
    migrate.upgrade(fresh_database_url)
    settings = Settings(
        database_url=fresh_database_url, secret_key="test", api_rate_limit="5/minute"
    )
    app = create_app(settings)
    with transaction(app.extensions["hcs"].sessions) as session:
        create_user(
            session, email="ana@example.com", roles=["author"], password="x" * 12, actor="t"
        )
        for name in ("one", "two"):
            _, app.config[f"KEY_{name}"] = create_api_key(
                session, name=name, scopes=["read", "send"], user_email=None, actor="t"
            )
    yield app
    app.extensions["hcs"].engine.dispose()


def _get(app: Flask, key: str, address: str = "10.0.0.1") -> TestResponse:
    client = app.test_client()
    answer = client.get(
        "/api/v1/templates",
        headers={"Authorization": f"Bearer {key}"},
        environ_base={"REMOTE_ADDR": address},
    )
    return answer


def test_each_key_has_its_own_limit_and_is_told_when_to_retry(app: Flask) -> None:
    assert [_get(app, app.config["KEY_one"]).status_code for _ in range(5)] == [200] * 5
    refused = _get(app, app.config["KEY_one"])
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["code"] == 429
    assert _get(app, app.config["KEY_two"]).status_code == 200  # another key is not held back


def test_every_api_answer_tells_the_limit_what_is_left_and_when_it_resets(app: Flask) -> None:
    before = time.time()
    answers = [_get(app, app.config["KEY_one"]) for _ in range(6)]
    assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["5"] * 6
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0"]
    resets = {int(a.headers["X-RateLimit-Reset"]) for a in answers}
    assert len(resets) == 1 and before < resets.pop() <= before + 62  # epoch seconds, a minute on
    assert answers[-1].status_code == 429
    other = _get(app, app.config["KEY_two"])
    assert other.headers["X-RateLimit-Remaining"] == "4"  # counted per key


def test_failed_authentications_are_throttled_per_address(app: Flask) -> None:
    codes = [_get(app, f"hcs_{i:08x}_{'a' * 43}").status_code for i in range(60)]
    assert set(codes) == {401}
    assert _get(app, f"hcs_ffffffff_{'a' * 43}").status_code == 429
    # A valid key from that address waits too; another address is not affected.
    assert _get(app, app.config["KEY_one"]).status_code == 429
    assert _get(app, app.config["KEY_one"], address="10.0.0.2").status_code == 200


def test_refusals_are_logged_without_credentials_and_counted(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "hcs_12345678_" + "s" * 43
    with caplog.at_level("WARNING", logger="hcs.auth"):
        assert _get(app, secret).status_code == 401
    [record] = [r for r in caplog.records if r.name == "hcs.auth"]
    assert "401" in record.getMessage() and "/api/v1/templates" in record.getMessage()
    assert "s" * 20 not in record.getMessage() and "s" * 20 not in str(record.__dict__)
    metrics = app.test_client().get("/metrics").text
    assert 'hcs_auth_refusals_total{status="401"}' in metrics


def test_the_sign_in_limit_says_when_to_retry(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert token
    form = {"email": "ana@example.com", "password": "wrong", "csrf_token": token[1]}
    for _ in range(12):
        answer = client.post("/login", data=form)
        if answer.status_code == 429:
            break
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1


def test_api_calls_start_no_thread_to_expire_their_counters(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    for thread in threading.enumerate():  # timers left by the app's set-up run out first
        if isinstance(thread, threading.Timer):
            thread.join(timeout=5)
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    for _ in range(3):
        assert _get(app, app.config["KEY_one"]).status_code == 200
        for thread in started:
            thread.join(timeout=5)
    assert started == []
