"""The web app's operations endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from hcs.http.app import create_app
from hcs.infrastructure.config import Settings


@contextmanager
def app_for(url: str) -> Iterator[Flask]:
    app = create_app(Settings(database_url=url, secret_key="test"))
    try:
        yield app
    finally:
        app.extensions["hcs"].engine.dispose()


def test_healthz_answers_when_the_database_does(migrated_database_url: str) -> None:
    with app_for(migrated_database_url) as app:
        response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database() -> None:
    with app_for("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1") as app:
        response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"


def test_readyz_is_503_when_the_database_cannot_take_a_send() -> None:
    with app_for("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1") as app:
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["database"] != "ok"
