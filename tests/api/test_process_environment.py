"""A request never carries the API process's own environment (Granian copies it into each one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hcs.http.environ import WithoutProcessEnvironment
from tests.support.world import World


def _seen(environment: dict[str, str], environ: dict[str, Any]) -> dict[str, Any]:
    received: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        received.update(env)
        return [b""]

    WithoutProcessEnvironment(app, environment)(environ, lambda *a: None)
    return received


def test_inherited_variables_are_dropped_and_the_requests_own_values_kept() -> None:
    process = {
        "HTTP_AUTHORIZATION": "Bearer leaked",
        "HTTP_X_FORWARDED_FOR": "10.9.9.9",
        "HCS_SECRET_KEY": "s3cret",
        "PATH_INFO": "/from-the-environment",
        "REQUEST_METHOD": "GET",
    }
    environ = {
        **process,  # as Granian builds it: the process's environment first
        "HTTP_X_FORWARDED_FOR": "203.0.113.7",  # then what the caller sent
        "PATH_INFO": "/from-the-environment",  # the request's own, equal by chance
        "REQUEST_METHOD": "GET",
        "HTTP_HOST": "api.example",
        "wsgi.url_scheme": "http",
    }
    seen = _seen(process, environ)
    assert "HTTP_AUTHORIZATION" not in seen and "HCS_SECRET_KEY" not in seen
    assert seen["HTTP_X_FORWARDED_FOR"] == "203.0.113.7"
    assert seen["PATH_INFO"] == "/from-the-environment" and seen["REQUEST_METHOD"] == "GET"
    assert seen["HTTP_HOST"] == "api.example"


def test_an_api_key_in_the_process_environment_authenticates_nobody(
    make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Granian serves it: the variable is in every request's environ. The caller who sends
    no key is refused; the caller who sends their own is who they are."""
    key = make_world().keys["system"]  # the test's worlds share their people and keys
    monkeypatch.setenv("HTTP_AUTHORIZATION", f"Bearer {key}")
    world = make_world()  # its app built with the variable in the process environment
    client = world.app.test_client()
    inherited = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    anonymous = client.get("/api/v1/messages", environ_base=inherited)
    assert anonymous.status_code == 401, anonymous.get_json()
    own = f"Bearer {world.keys['aud@example.com']}"
    audited = client.get("/api/v1/messages", environ_base={**inherited, "HTTP_AUTHORIZATION": own})
    assert audited.status_code == 200, audited.get_json()
