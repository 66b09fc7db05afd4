"""Schemathesis against `/api/openapi.json`: no server errors, every answer as documented.

`positive_data_acceptance` is left out: data a JSON schema allows can still break a rule only
the domain knows (a locale Babel does not know, a key that is taken), which is a documented 422.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import flask_smorest
import pytest
import schemathesis
from flask import Flask
from flask_smorest import Api
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hcs.cli.seeding import load_demo
from hcs.http import api
from hcs.http.app import create_app
from hcs.identity import ROLES, create_api_key, create_user
from hcs.infrastructure.db import transaction
from tests.support.databases import Databases
from tests.support.world import running, settings_for


@pytest.fixture(scope="module")
def app_and_key(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, str]]:
    directory = tmp_path_factory.mktemp("openapi")
    with (
        databases.copy("sqlite", "migrated", directory) as (url, _),
        running(settings_for(url, var_dir=directory / "var"), {}) as world,
    ):
        yield world.app, _everyone(world.app)


def _everyone(app: Flask) -> str:
    """The demo set and a person with every role; the key of every scope that person has."""
    with transaction(app.extensions["hcs"].sessions) as session:
        load_demo(session)
        create_user(session, email="all@example.com", roles=list(ROLES), actor="t")
        _, key = create_api_key(
            session,
            name="all",
            scopes=["read", "templates", "review", "admin"],
            user_email="all@example.com",
            actor="t",
        )
    return key


def test_the_api_matches_its_document(app_and_key: tuple) -> None:
    app, key = app_and_key
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            exercise()
        except BaseException as exc:  # noqa: B036  (collect every operation's failure)
            failures.append(f"{operation.label}: {_first_lines(exc)}")
    assert not failures, "\n\n".join(failures)


def _first_lines(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return " | ".join(_first_lines(e) for e in inner)
    return " ".join(str(exc).split("\n")[:2])[:300]


def test_the_document_names_every_contract_path(app_and_key: tuple) -> None:
    app, _ = app_and_key
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/templates",
        "/api/v1/templates/{key}",
        "/api/v1/templates/{key}/versions",
        "/api/v1/templates/{key}/versions/{number}",
        "/api/v1/templates/{key}/versions/{number}/submit",
        "/api/v1/templates/{key}/versions/{number}/approve",
        "/api/v1/templates/{key}/versions/{number}/reject",
        "/api/v1/templates/{key}/versions/{number}/publish",
        "/api/v1/templates/{key}/versions/{number}/diff",
        "/api/v1/templates/{key}/preview",
        "/api/v1/blocks",
        "/api/v1/audit",
    ):
        assert path in paths, path


def test_the_document_written_when_first_read_is_the_one_written_at_start_up(
    app_and_key: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app documents its blueprints when the document is first read (start-up is faster):
    the same document, byte for byte, as flask-smorest writes while registering them."""
    app, _ = app_and_key
    deferred = app.test_client().get("/api/openapi.json").get_data()
    monkeypatch.setattr(api, "_DocumentedWhenRead", Api)  # flask-smorest's own, eager
    url = f"sqlite:///{tmp_path / 'eager.db'}"
    eager = create_app(settings_for(url, var_dir=tmp_path / "var"))
    assert type(eager.extensions["flask-smorest"]["blp_name_to_api"]["messages"]) is Api
    assert eager.test_client().get("/api/openapi.json").get_data() == deferred
    assert b"/api/v1/messages/{message_id}/retry" in deferred


def test_readers_of_the_first_document_at_once_each_get_all_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first requests in two threads (the servers run two): the one that does not write the
    document waits for all of it instead of serving what is written so far."""
    document = flask_smorest.Blueprint.register_views_in_doc

    def slowly(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.005)  # a blueprint's documentation takes a while
        return document(*args, **kwargs)

    monkeypatch.setattr(flask_smorest.Blueprint, "register_views_in_doc", slowly)
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'a.db'}", var_dir=tmp_path / "var"))
    start = threading.Barrier(2)

    def read() -> int:
        start.wait()
        return len(app.test_client().get("/api/openapi.json").get_json()["paths"])

    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: read(), range(2)))
    whole = len(app.test_client().get("/api/openapi.json").get_json()["paths"])
    assert counts == [whole, whole] and whole > 60, counts
