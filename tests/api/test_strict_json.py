"""Strict JSON on every API endpoint: duplicates, depth, size and type refused, never a 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.flows import ORDER, PARTS, published
from tests.support.world import World

WRONG = [None, 5, "x", [1], {"a": {"b": 1}}, True, 1.5]


def _raw(world: World, path: str, body: bytes, method: str = "post", **headers: str) -> Any:
    headers = {"Content-Type": "application/json", **headers}
    return world.as_("system")._call(method, path, data=body, headers=headers)


def _messages(world: World) -> int:
    return len(world.as_("system").get("/messages").get_json()["items"])


def test_a_key_given_twice_is_refused_and_nothing_is_sent(world: World) -> None:
    published(world)
    body = json.dumps(ORDER)[:-1] + ', "to": {"email": "mallory@example.com"}}'
    answer = _raw(world, "/messages", body.encode())
    assert answer.status_code == 400
    assert "'to' appears twice" in answer.get_json()["errors"]["json"][0]
    nested = b'{"template": "order-confirmation", "channel": "email", "data": {},'
    nested += b' "to": {"email": "a@example.com", "email": "b@example.com"}}'
    assert _raw(world, "/messages", nested).status_code == 400
    assert _messages(world) == 0


def _api_writes(world: World) -> list[tuple[str, str]]:
    """Every (method, path) of the API that takes a body, its parameters filled in."""
    found = []
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: "1" if "number" in m[1] else "x-y-z", rule.rule
        )
        for method in sorted((rule.methods or set()) & {"POST", "PATCH", "PUT", "DELETE"}):
            found.append((method.lower(), path.removeprefix("/api/v1")))
    return found


def test_ten_thousand_levels_of_nesting_are_refused_on_every_json_endpoint(world: World) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    writes = _api_writes(world)
    assert len(writes) > 30
    for method, path in writes:
        answer = _raw(world, path, deep, method)
        assert answer.status_code == 400, (method, path, answer.status_code)
        assert "nested deeper" in answer.get_json()["errors"]["json"][0]


def test_nesting_past_the_bound_is_refused_and_within_it_read(world: World) -> None:
    published(world)
    too_deep = {**ORDER, "metadata": {"a": json.loads("[" * 40 + "]" * 40)}}
    assert world.as_("system").post("/messages", too_deep).status_code == 400
    assert world.as_("system").post("/messages", ORDER).status_code == 202


def test_a_body_that_is_not_json_is_refused_with_415(world: World) -> None:
    published(world)
    form = world.as_("system")._call(
        "post", "/messages", data={"template": "order-confirmation", "channel": "email"}
    )
    assert form.status_code == 415
    assert "Content-Type" in form.get_json()["errors"]
    text = _raw(world, "/messages", json.dumps(ORDER).encode(), **{"Content-Type": "text/plain"})
    assert text.status_code == 415
    assert _messages(world) == 0


def test_nan_and_malformed_json_are_refused_with_400(world: World) -> None:
    published(world)
    nan = json.dumps(ORDER)[:-1] + ', "metadata": {"x": NaN}}'
    assert _raw(world, "/messages", nan.encode()).status_code == 400
    assert _raw(world, "/messages", b'{"template": ').status_code == 400
    assert _raw(world, "/messages", b"\xff\xfe{}").status_code == 400


def test_a_body_past_the_size_bound_is_refused_with_413_in_json(world: World) -> None:
    big = json.dumps({**ORDER, "data": {"order_id": "x" * (9 * 1024 * 1024)}}).encode()
    answer = _raw(world, "/messages", big)
    assert answer.status_code == 413
    assert answer.get_json()["code"] == 413


@pytest.mark.parametrize("wrong", WRONG, ids=repr)
def test_wrong_types_in_a_block_a_version_or_a_send_answer_422_naming_the_field(
    world: World, wrong: Any
) -> None:
    published(world)
    ana, system = world.as_("ana@example.com"), world.as_("system")
    ana.post("/blocks", {"key": "footer", "name": "Footer"})
    calls = [
        (ana, "/blocks/footer/versions", {"content": {"html": wrong}}),
        (ana, "/blocks/footer/versions", {"content": {"html": {"en": wrong}}}),
        (ana, "/templates/order-confirmation/versions", {"parts": {"email": {"en": wrong}}}),
        (ana, "/templates/order-confirmation/versions", {"parts": PARTS, "variables": [wrong]}),
        (system, "/messages", {**ORDER, "to": {"email": wrong}}),
        (system, "/messages", {**ORDER, "to": wrong}),
        (system, "/messages", {**ORDER, "channel": "sms", "to": {"phone": wrong}}),
    ]
    for caller, path, body in calls:
        answer = caller.post(path, body)
        assert answer.status_code in (400, 422) or answer.status_code < 300, (path, body, answer)
        if answer.status_code >= 400:
            assert answer.get_json().get("errors"), (path, body, answer.get_json())
    block = ana.post("/blocks/footer/versions", {"content": {"html": "<p>x</p>"}})
    assert block.status_code == 422 and "content.html" in block.get_json()["errors"]


def test_the_schemas_read_the_body_the_strict_parser_read_without_parsing_it_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    parses: list[str] = []
    real = json.loads

    def counted(text: str | bytes, **kw: Any) -> Any:
        parses.append(text.decode() if isinstance(text, bytes) else text)
        return real(text, **kw)

    monkeypatch.setattr(json, "loads", counted)
    answer = _raw(world, "/messages", json.dumps(ORDER).encode())
    assert answer.status_code == 202, answer.get_json()
    assert len([p for p in parses if p.startswith('{"template"')]) == 1
    empty = _raw(world, "/messages", b"")  # nothing for the strict parser: the schema says so
    assert empty.status_code == 422 and "template" in empty.get_json()["errors"]["json"]
