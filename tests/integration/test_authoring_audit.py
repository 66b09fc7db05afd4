"""The web editor and the API write the same audit entries: both go through one authoring service.

Each story is walked twice, once through the pages (forms with their CSRF token) and once through
the REST API (Bearer keys), and the audit log must tell both the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.http.app import create_app
from hcs.identity import create_api_key, create_user, users
from hcs.identity.models import GROUPS
from hcs.infrastructure import migrate
from hcs.infrastructure.config import Settings
from hcs.infrastructure.db import transaction

PASSWORD = "a long passphrase"
PEOPLE = {"ana@example.com": ["author"], "lee@example.com": ["reviewer"]}
SMS = {"sms": {"en": {"body": "Order {{ order_id }} is confirmed."}}}
VARIABLES = [{"name": "order_id", "type": "string", "required": True, "example": "A-1001"}]
HTML = {"en": "<p>Northwind Goods · 1 Harbour Street</p>"}
TEXT = {"en": "Northwind Goods, 1 Harbour Street"}
SETTINGS = {"company_name": "Northwind Goods", "support_phone": "+44 20 7946 0000"}


@pytest.fixture
def app(fresh_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    migrate.upgrade(fresh_database_url)
    settings = Settings(
        database_url=fresh_database_url, secret_key="test", insecure_cookies=True, var_dir=tmp_path
    )
    app = create_app(settings)
    # Cheap Argon2 parameters: signing in stays real, and seconds cheaper.
    with (
        transaction(app.extensions["hcs"].sessions) as session,
        patch.object(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024)),
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
    yield app
    app.extensions["hcs"].engine.dispose()


class Page:
    """A person signed in to the web editor, posting forms with the session's CSRF token."""

    def __init__(self, app: Flask, email: str) -> None:
        self.client: FlaskClient = app.test_client()
        login = self.client.get("/login").text
        form = {"email": email, "password": PASSWORD, "csrf_token": _token(login)}
        assert self.client.post("/login", data=form).status_code == 302
        self.token = _token(self.client.get("/").text)

    def post(self, path: str, form: dict[str, Any]) -> None:
        answer = self.client.post(path, data={**form, "csrf_token": self.token})
        assert answer.status_code == 302, answer.text


class Api:
    """A person's API key (every scope their roles allow), calling `/api/v1`."""

    def __init__(self, app: Flask, email: str) -> None:
        with transaction(app.extensions["hcs"].sessions) as session:
            scopes = ["read", "templates", "review"]
            name = email.split("@")[0]
            _, self.key = create_api_key(
                session, name=name, scopes=scopes, user_email=email, actor="t"
            )
        self.client = app.test_client()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        answer = self.client.open(f"/api/v1{path}", method=method, json=body or {}, headers=headers)
        assert answer.status_code in (200, 201), answer.text


def _token(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found, page
    return found[1]


def _trail(app: Flask, key: str) -> list[tuple[str, str, str, str]]:
    """Who did what to `key` and its versions, oldest first; the key itself written `KEY`."""
    with transaction(app.extensions["hcs"].sessions) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [
            (e.actor, e.action, e.target_type, re.sub(rf"\b{key}\b", "KEY", e.target))
            for e in entries
            if re.search(rf"(^|\s){key}(\s|$)", e.target)
        ]


def _template_in_pages(app: Flask, key: str) -> None:
    ana, lee = Page(app, "ana@example.com"), Page(app, "lee@example.com")
    fields = {"key": key, "name": "Order", "category": "transactional", "channels": "sms"}
    ana.post("/templates/new", fields)
    ana.post(
        f"/templates/{key}/versions/1/edit",
        {
            "parts.sms.en.body": SMS["sms"]["en"]["body"],
            "variables": json.dumps(VARIABLES),
            "sample_data": json.dumps({"order_id": "A-1"}),
            "ai_slots": "[]",
            "action": "submit",
        },
    )
    lee.post(f"/templates/{key}/versions/1/approve", {"comment": "fine"})
    lee.post(f"/templates/{key}/versions/1/publish", {})


def _template_through_api(app: Flask, key: str) -> None:
    ana, lee = Api(app, "ana@example.com"), Api(app, "lee@example.com")
    fields = {"key": key, "name": "Order", "category": "transactional", "channels": ["sms"]}
    ana.call("POST", "/templates", fields)
    ana.call("POST", f"/templates/{key}/versions")
    content = {"parts": SMS, "variables": VARIABLES, "sample_data": {"order_id": "A-1"}}
    ana.call("PATCH", f"/templates/{key}/versions/1", content)
    ana.call("POST", f"/templates/{key}/versions/1/submit")
    lee.call("POST", f"/templates/{key}/versions/1/approve", {"comment": "fine"})
    lee.call("POST", f"/templates/{key}/versions/1/publish")


def test_a_template_made_in_the_web_editor_is_audited_as_one_made_through_the_api(
    app: Flask,
) -> None:
    _template_in_pages(app, "made-in-pages")
    _template_through_api(app, "made-by-api")
    in_pages, by_api = _trail(app, "made-in-pages"), _trail(app, "made-by-api")
    assert in_pages == by_api
    assert [(actor, action) for actor, action, _, _ in in_pages] == [
        ("ana@example.com", "template.create"),
        ("ana@example.com", "template.draft"),
        ("ana@example.com", "template.edit"),
        ("ana@example.com", "template.submit"),
        ("lee@example.com", "template.approve"),
        ("lee@example.com", "template.publish"),
    ]


COMPONENT_FORMS = {
    "block": {"content.html.en": HTML["en"], "content.text.en": TEXT["en"]},
    "theme": {"settings": json.dumps(SETTINGS)},
}
COMPONENT_BODIES = {
    "block": {"content": {"html": HTML, "text": TEXT}},
    "theme": {"settings": SETTINGS},
}


def _component_in_pages(app: Flask, kind: str, key: str) -> None:
    ana, lee = Page(app, "ana@example.com"), Page(app, "lee@example.com")
    ana.post(f"/{kind}s/new", {"key": key, "name": key.title()})
    ana.post(f"/{kind}s/{key}/versions/1/edit", {**COMPONENT_FORMS[kind], "action": "submit"})
    lee.post(f"/{kind}s/{key}/versions/1/reject", {"comment": "say where we are"})
    ana.post(f"/{kind}s/{key}/drafts", {})
    ana.post(f"/{kind}s/{key}/versions/2/edit", {**COMPONENT_FORMS[kind], "action": "submit"})
    lee.post(f"/{kind}s/{key}/versions/2/approve", {"comment": ""})
    lee.post(f"/{kind}s/{key}/versions/2/publish", {})


def _component_through_api(app: Flask, kind: str, key: str) -> None:
    ana, lee = Api(app, "ana@example.com"), Api(app, "lee@example.com")
    ana.call("POST", f"/{kind}s", {"key": key, "name": key.title()})
    for number in (1, 2):
        ana.call("POST", f"/{kind}s/{key}/versions", {"content": {}} if kind == "block" else {})
        ana.call("PATCH", f"/{kind}s/{key}/versions/{number}", COMPONENT_BODIES[kind])
        ana.call("POST", f"/{kind}s/{key}/versions/{number}/submit")
        verdict = "reject" if number == 1 else "approve"
        lee.call("POST", f"/{kind}s/{key}/versions/{number}/{verdict}", {"comment": "say where"})
    lee.call("POST", f"/{kind}s/{key}/versions/2/publish")


@pytest.mark.parametrize("kind", ["block", "theme"])
def test_a_block_or_theme_made_in_the_pages_is_audited_as_one_made_through_the_api(
    app: Flask, kind: str
) -> None:
    _component_in_pages(app, kind, "made-in-pages")
    _component_through_api(app, kind, "made-by-api")
    in_pages, by_api = _trail(app, "made-in-pages"), _trail(app, "made-by-api")
    assert in_pages == by_api
    author = ["create", "draft", "edit", "submit"]
    assert [action for _, action, _, _ in in_pages] == [
        *(f"{kind}.{a}" for a in author),
        f"{kind}.reject",
        *(f"{kind}.{a}" for a in author[1:]),
        f"{kind}.approve",
        f"{kind}.publish",
    ]


def groups_for(roles: list[str]) -> tuple[str, ...]:
    """A test reviewer belongs to every built-in group (tests of groups make their own people)."""
    return GROUPS if "reviewer" in roles else ()
