"""An app on a database of its own, with people and keys, and a client per person."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from hcs.http.app import create_app
from hcs.identity import create_api_key, create_user, users
from hcs.identity.models import GROUPS
from hcs.infrastructure import migrate
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import transaction

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
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ALL_SCOPES = ["read", "templates", "review", "signoff", "admin"]


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


@dataclass
class ApiWorld:
    app: Flask
    keys: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str) -> Caller:
        return Caller(self.app.test_client(), self.keys[who])


def make_world(url: str, var_dir: Path) -> ApiWorld:
    migrate.upgrade(url)
    settings = Settings(database_url=url, secret_key="test", insecure_cookies=True, var_dir=var_dir)
    app = create_app(settings)
    world = ApiWorld(app)
    # Test accounts are hashed with cheap Argon2 parameters (tests/integration/test_identity.py
    # covers the real ones; a sign-in rehashes to them); it saves seconds per test.
    with (
        transaction(app.extensions["hcs"].sessions) as session,
        patch.object(users, "_hasher", CHEAP_HASHER),
    ):
        for email, roles in PEOPLE.items():
            create_user(
                session,
                email=email,
                roles=roles,
                password="a long passphrase",
                groups=groups_for(roles),
                actor="t",
            )
            name = email.split("@")[0]
            _, world.keys[email] = create_api_key(
                session, name=name, scopes=ALL_SCOPES, user_email=email, actor="t"
            )
        _, world.keys["system"] = create_api_key(
            session, name="backend", scopes=["read", "templates", "send"], actor="t"
        )
    return world


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[ApiWorld]:
    world = make_world(fresh_database_url, tmp_path / "var")
    yield world
    world.app.extensions["hcs"].engine.dispose()


def groups_for(roles: list[str]) -> tuple[str, ...]:
    """A test reviewer belongs to every built-in group (tests of groups make their own people)."""
    return GROUPS if "reviewer" in roles else ()
