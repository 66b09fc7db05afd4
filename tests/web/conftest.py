"""The pages' worlds on SQLite, and each test's outcome kept on its item (for screenshots)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.databases import Databases
from tests.support.world import World, own_world


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def module_world(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A world on SQLite shared by one module's tests, each of which adds what it looks at."""
    with own_world(databases, "sqlite", tmp_path_factory.mktemp("web")) as world:
        yield world


@pytest.fixture
def sqlite_world(databases: Databases, tmp_path: Path) -> Iterator[World]:
    """A world on SQLite of the test's own."""
    with own_world(databases, "sqlite", tmp_path) as world:
        yield world


@pytest.fixture(scope="module")
def app(module_world: World) -> Flask:
    """The module's app: its pages' tests share it."""
    return module_world.app
