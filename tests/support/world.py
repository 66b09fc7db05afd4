"""The test world: people with roles and API keys in a database of the test's own, an app on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from hcs.http.app import create_app
from hcs.identity import create_api_key, create_user, users
from hcs.identity.models import GROUPS
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import make_engine, session_factory, transaction
from tests.support.databases import Databases

PASSWORD = "a long passphrase"
PEOPLE = {
    "ana@example.com": ["author"],
    "cy@example.com": ["author"],
    "lee@example.com": ["reviewer"],
    "bo@example.com": ["reviewer"],
    "max@example.com": ["reviewer", "author"],
    "root@example.com": ["admin"],
    "aud@example.com": ["auditor"],
    "sam@example.com": ["signoff"],
}
ALL_SCOPES = ["read", "templates", "review", "signoff", "admin"]
BACKEND_SCOPES = ["read", "templates", "send"]
# Test accounts are hashed with cheap Argon2 parameters (tests/integration/test_identity.py covers
# the real ones; a sign-in rehashes to them), and only once per session, in the snapshot.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def groups_for(roles: list[str]) -> tuple[str, ...]:
    """A test reviewer belongs to every built-in group (tests of groups make their own people)."""
    return GROUPS if "reviewer" in roles else ()


def add_people(url: str) -> dict[str, str]:
    """Everyone in PEOPLE, each with a key of every scope, and the backend's key; the keys."""
    keys: dict[str, str] = {}
    engine = make_engine(url)
    try:
        with (
            transaction(session_factory(engine)) as session,
            patch.object(users, "_hasher", CHEAP_HASHER),
        ):
            for email, roles in PEOPLE.items():
                create_user(
                    session,
                    email=email,
                    roles=roles,
                    password=PASSWORD,
                    groups=groups_for(roles),
                    actor="t",
                )
                name = email.split("@")[0]
                _, keys[email] = create_api_key(
                    session, name=name, scopes=ALL_SCOPES, user_email=email, actor="t"
                )
            _, keys["system"] = create_api_key(
                session, name="backend", scopes=BACKEND_SCOPES, actor="t"
            )
    finally:
        engine.dispose()
    return keys


@dataclass
class Caller:
    """A test client that sends one API key."""

    client: FlaskClient
    key: str

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._call("get", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self._call("post", path, json=json if json is not None else {}, **kwargs)

    def patch(self, path: str, json: Any, **kwargs: Any) -> Any:
        return self._call("patch", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self._call("delete", path, **kwargs)


@dataclass
class World:
    """An app on a database of its own, and the API keys of its people ("system": the backend)."""

    app: Flask
    keys: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str) -> Caller:
        return Caller(self.app.test_client(), self.keys[who])


def settings_for(url: str, **fields: Any) -> Settings:
    """The tests' settings on `url`, with `fields` over them."""
    # Loopback servers stand in for the chat platform, the model and witnesses.
    base: dict[str, Any] = {
        "secret_key": "test",
        "insecure_cookies": True,
        "allowed_private_destinations": ("127.0.0.1",),
    }
    return Settings(database_url=url, **(base | fields))


@contextmanager
def running(settings: Settings, keys: dict[str, str]) -> Iterator[World]:
    """An app built with `settings`, closed (its engine and Celery) after the block."""
    world = World(create_app(settings), dict(keys))
    try:
        yield world
    finally:
        celery = world.app.extensions.get("celery")
        if celery is not None:
            celery.close()
        world.app.extensions["hcs"].engine.dispose()


@contextmanager
def own_world(
    databases: Databases, backend: str, directory: Path, **fields: Any
) -> Iterator[World]:
    """A copy of the people's database under `directory` and an app on it with `fields`."""
    fields.setdefault("var_dir", directory / "var")
    with databases.copy(backend, "world", directory / "db") as (url, snapshot):
        with running(settings_for(url, **fields), snapshot.facts) as world:
            yield world


def databases_in(directory: Path) -> Databases:
    """The test databases, built under `directory`: empty ("migrated"), and "world"."""
    return Databases(directory, {"migrated": lambda url: {}, "world": add_people})
