"""`Idempotency-Key` on every POST that creates: a lost answer is asked again, never made twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hcs.http import idempotent
from hcs.identity.models import User
from hcs.messages import idempotency
from hcs.messages.models import IdempotencyRecord
from templates_store.models import Template
from tests.support.world import World

TEMPLATE = {
    "key": "welcome",
    "name": "Welcome",
    "category": "transactional",
    "channels": ["email"],
}
KEY = {"Idempotency-Key": "create-welcome-1"}


def count(world: World, model: type[Any]) -> int:
    with world.app.extensions["hcs"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def records(world: World) -> list[IdempotencyRecord]:
    with world.app.extensions["hcs"].sessions() as session:
        return list(session.scalars(select(IdempotencyRecord)))


def test_the_same_key_and_request_answers_the_first_answer_and_creates_once(
    world: World,
) -> None:
    ana = world.as_("ana@example.com")
    first = ana.post("/templates", TEMPLATE, headers=KEY)
    again = ana.post("/templates", TEMPLATE, headers=KEY)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers[idempotent.REPLAYED] == "true"
    assert idempotent.REPLAYED not in first.headers
    assert count(world, Template) == 1
    audit = world.as_("root@example.com").get("/audit").get_json()
    created = [e for e in audit if e["action"] == "template.create"]
    assert len(created) == 1, audit[:3]


def test_without_a_key_a_second_create_is_refused_as_before(world: World) -> None:
    ana = world.as_("ana@example.com")
    assert ana.post("/templates", TEMPLATE).status_code == 201
    assert ana.post("/templates", TEMPLATE).status_code == 409
    assert records(world) == []


def test_the_same_key_with_another_request_is_refused_and_creates_nothing(world: World) -> None:
    ana = world.as_("ana@example.com")
    assert ana.post("/templates", TEMPLATE, headers=KEY).status_code == 201
    other = ana.post("/templates", {**TEMPLATE, "key": "welcome-2"}, headers=KEY)
    assert other.status_code == 409
    draft = ana.post("/templates/welcome/versions", {}, headers=KEY)  # another path, same key
    assert draft.status_code == 409
    assert count(world, Template) == 1
    listed = ana.get("/templates/welcome").get_json()
    assert listed["versions"] == []


def test_a_refused_request_does_not_use_up_its_key(world: World) -> None:
    ana = world.as_("ana@example.com")
    assert ana.post("/templates", TEMPLATE).status_code == 201
    clash = ana.post("/templates", TEMPLATE, headers=KEY)
    assert clash.status_code == 409  # the key "welcome" exists: nothing was created
    assert records(world) == []
    renamed = ana.post("/templates", {**TEMPLATE, "key": "welcome-2"}, headers=KEY)
    assert renamed.status_code == 201


def test_keys_belong_to_their_caller(world: World) -> None:
    """Another person's identical request under the same key is their own request."""
    assert world.as_("ana@example.com").post("/templates", TEMPLATE, headers=KEY).status_code == 201
    second = world.as_("cy@example.com").post("/templates", TEMPLATE, headers=KEY)
    assert second.status_code == 409  # a real second create: the template key is taken
    assert idempotent.REPLAYED not in second.headers


def test_a_generated_password_is_shown_once_and_never_kept_for_a_replay(world: World) -> None:
    root = world.as_("root@example.com")
    body = {"email": "lou@example.com", "roles": ["reviewer"]}
    first = root.post("/users", body, headers=KEY)
    assert first.status_code == 201 and first.get_json()["password"]
    again = root.post("/users", body, headers=KEY)
    assert again.status_code == 201 and "password" not in again.get_json()
    assert again.get_json()["not_replayed"] == ["password"]
    assert again.get_json()["email"] == "lou@example.com"
    [record] = records(world)
    assert first.get_json()["password"] not in str(record.response)
    listed = [u["email"] for u in root.get("/users").get_json()]
    assert listed.count("lou@example.com") == 1
    with world.app.extensions["hcs"].sessions() as session:  # one person, one password
        assert session.scalar(select(func.count()).where(User.email == "lou@example.com")) == 1


def test_a_webhook_signing_secret_is_never_kept_for_a_replay(make_world: Any) -> None:
    world = make_world(webhook_allowed_hosts=("127.0.0.1",))
    system = world.as_("system")
    body = {"url": "http://127.0.0.1:9/hook", "events": ["sent"]}
    first = system.post("/webhooks", body, headers=KEY)
    assert first.status_code == 201, first.get_json()
    secret = first.get_json()["secret"]
    again = system.post("/webhooks", body, headers=KEY)
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert "secret" not in again.get_json() and again.get_json()["not_replayed"] == ["secret"]
    assert len(system.get("/webhooks").get_json()) == 1
    assert all(secret not in str(r.response) for r in records(world))


def test_two_requests_with_one_key_at_the_same_moment_create_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request looked for the key before the first committed; its own commit meets
    the key's unique index, so its template is rolled back and the first answer replayed."""
    ana = world.as_("ana@example.com")
    first = ana.post("/templates", TEMPLATE, headers=KEY)
    original = idempotency.find
    looks: list[int] = []

    def not_yet(*args: Any, **kwargs: Any) -> Any:
        looks.append(1)
        return None if len(looks) == 1 else original(*args, **kwargs)

    monkeypatch.setattr(idempotency, "find", not_yet)
    racing = ana.post("/templates", {**TEMPLATE}, headers=KEY)
    assert len(looks) == 2  # missed it, then found it after the unique index refused
    assert racing.status_code == 201 and racing.get_json() == first.get_json()
    assert racing.headers[idempotent.REPLAYED] == "true"
    assert count(world, Template) == 1


def test_a_create_and_its_key_are_saved_together_or_not_at_all(world: World) -> None:
    """The commit fails (the database went away at that moment): neither the template nor
    the key's record is saved, so the retry creates it once."""
    ana = world.as_("ana@example.com")

    def keyed(session: Session, *_: Any) -> None:
        if any(isinstance(o, IdempotencyRecord) for o in session.new):
            session.info["keyed"] = True

    def gone(session: Session) -> None:
        if session.info.pop("keyed", False):
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    event.listen(Session, "before_flush", keyed)
    event.listen(Session, "before_commit", gone)
    try:
        failed = ana.post("/templates", TEMPLATE, headers=KEY)
    finally:
        event.remove(Session, "before_commit", gone)
        event.remove(Session, "before_flush", keyed)
    assert failed.status_code == 503
    assert count(world, Template) == 0 and records(world) == []
    retried = ana.post("/templates", TEMPLATE, headers=KEY)
    assert retried.status_code == 201 and idempotent.REPLAYED not in retried.headers
    assert count(world, Template) == 1


def test_the_openapi_document_names_the_header_on_every_creating_post(world: World) -> None:
    spec = world.app.test_client().get("/api/openapi.json").get_json()
    creating = [
        (path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method == "post" and "201" in operation.get("responses", {})
    ]
    assert len(creating) >= 8
    for path, operation in creating:
        names = [p.get("name") for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, path
