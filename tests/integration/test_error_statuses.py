"""One error tree, one table of HTTP statuses: no error of ours ends as an unexplained 500."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

import hcs
from hcs.errors import (
    HcsError,
    MissingRole,
    TemplateProblem,
    TemplateStoreError,
    ValidationFailed,
)
from hcs.http.app import create_app
from hcs.http.error_handlers import SERVER_MESSAGES, STATUS_FOR, status_of
from hcs.infrastructure.config import Settings

SECRET = "detail that may quote a key"


def _modules() -> Iterator[str]:
    yield "templates_store.errors"
    for found in pkgutil.walk_packages(hcs.__path__, "hcs."):
        # hcs.client is the callers' library (it imports only httpx): its errors are its own.
        if found.name != "hcs.client":
            yield found.name


def _subclasses(base: type[Exception]) -> Iterator[type[Exception]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _tree() -> list[type[Exception]]:
    """Every class of the tree, once every module of hcs is imported (so each is defined)."""
    for name in _modules():
        importlib.import_module(name)
    found = {*_subclasses(HcsError), *_subclasses(TemplateStoreError), HcsError}
    return sorted(found, key=lambda kind: kind.__qualname__)


def _instance(kind: type[Exception]) -> Exception:
    if issubclass(kind, ValidationFailed):
        return kind({"field": ["is wrong"]})
    if issubclass(kind, TemplateProblem):
        return kind("sms.en.body", "cannot render", 1)
    if issubclass(kind, MissingRole):
        return kind("templates", ("author",))
    return kind(SECRET)


def test_every_exception_class_of_hcs_belongs_to_the_tree() -> None:
    strays = []
    for name in _modules():
        module = importlib.import_module(name)
        for cls_name, member in inspect.getmembers(module, inspect.isclass):
            defined_here = member.__module__ == name and not cls_name.startswith("_")
            is_error = issubclass(member, BaseException)
            if defined_here and is_error and not issubclass(member, (HcsError, TemplateStoreError)):
                strays.append(f"{name}.{cls_name}")
    assert strays == []


@pytest.mark.parametrize("kind", _tree(), ids=lambda kind: kind.__name__)
def test_every_error_of_the_tree_maps_to_a_4xx_or_an_explicit_5xx(kind: type[Exception]) -> None:
    listed = next((base for base in kind.__mro__ if base in STATUS_FOR), None)
    if kind is HcsError or kind is TemplateStoreError:
        return  # the bases themselves are never raised
    assert listed is not None, f"{kind.__name__} maps to no status"
    code = STATUS_FOR[listed]
    assert 400 <= code < 500 or (code >= 500 and listed in SERVER_MESSAGES), (kind, code)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    directory: Path = tmp_path_factory.mktemp("errors")
    url = f"sqlite:///{directory / 'hcs.db'}"
    app = create_app(Settings(database_url=url, secret_key="t", var_dir=directory))
    kinds = {kind.__name__: kind for kind in _tree()}

    def fail(name: str) -> str:
        raise _instance(kinds[name])

    app.add_url_rule("/raise/<name>", view_func=fail)
    return app


@pytest.mark.parametrize(
    "kind",
    [k for k in _tree() if k not in (HcsError, TemplateStoreError)],
    ids=lambda kind: kind.__name__,
)
def test_a_request_that_raises_one_answers_its_status_in_the_api_shape(
    app: Flask, kind: type[Exception]
) -> None:
    answer = app.test_client().get(f"/raise/{kind.__name__}")
    expected = status_of(_instance(kind))
    body = answer.get_json()
    assert answer.status_code == expected and body["code"] == expected
    assert body.get("errors") or body.get("message")
    if expected >= 500:  # a server error says what went wrong, not the error's own text
        assert SECRET not in answer.text
