"""Each process's database pool: bounded by default, sized by the operator when set."""

from __future__ import annotations

from pathlib import Path

import pytest

from hcs.http.app import create_app
from hcs.infrastructure.config import load_settings, pool
from tests.support.world import settings_for


def test_a_process_keeps_its_own_default_pool_unless_the_operator_sizes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HCS_DATABASE_POOL_SIZE", "HCS_DATABASE_MAX_OVERFLOW"):
        monkeypatch.delenv(name, raising=False)
    assert pool(load_settings(env_file=None), 3, 2) == {"pool_size": 3, "max_overflow": 2}
    monkeypatch.setenv("HCS_DATABASE_POOL_SIZE", "8")
    monkeypatch.setenv("HCS_DATABASE_MAX_OVERFLOW", "0")
    assert pool(load_settings(env_file=None), 3, 2) == {"pool_size": 8, "max_overflow": 0}
    # `hcs worker`'s threads each hold a connection: a smaller pool would leave them waiting.
    assert pool(load_settings(env_file=None), 12, 2, needed=12)["pool_size"] == 12


def test_the_api_processes_pool_is_the_one_configured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hcs.db'}"
    default = create_app(settings_for(url, var_dir=tmp_path / "a")).extensions["hcs"].engine
    sized = (
        create_app(
            settings_for(url, var_dir=tmp_path / "b", database_pool_size=2, database_max_overflow=1)
        )
        .extensions["hcs"]
        .engine
    )
    try:
        assert (default.pool.size(), default.pool._max_overflow) == (5, 10)  # type: ignore[attr-defined]
        assert (sized.pool.size(), sized.pool._max_overflow) == (2, 1)  # type: ignore[attr-defined]
    finally:
        default.dispose()
        sized.dispose()


def test_an_in_memory_database_has_no_pool_to_size(tmp_path: Path) -> None:
    app = create_app(settings_for("sqlite://", var_dir=tmp_path, database_pool_size=2))
    engine = app.extensions["hcs"].engine
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HCS_DATABASE_POOL_SIZE", "0"),
        ("HCS_DATABASE_POOL_SIZE", "many"),
        ("HCS_DATABASE_MAX_OVERFLOW", "-1"),
        ("HCS_DATABASE_MAX_OVERFLOW", "--2"),
        ("HCS_DATABASE_POOL_SIZE", "5.0"),
    ],
)
def test_a_pool_size_that_is_not_a_count_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        load_settings(env_file=None)
