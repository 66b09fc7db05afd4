"""A Celery worker that ends on an error of its own starts again in place; one asked to stop
stops (`hcs.worker.sweeping.run_celery_worker`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from celery.signals import worker_shutting_down

from hcs.worker import sweeping
from tests.support.world import settings_for


class _Started(Exception):
    """os.execv was called: the process would be replaced."""


class _Celery:
    """Celery's `start`, scripted: what the worker does before it ends, and its exit code."""

    def __init__(self, code: int | None, before_end: Callable[[], Any] = lambda: None) -> None:
        self.code, self.before_end, self.argv = code, before_end, []

    def start(self, argv: list[str]) -> int | None:
        self.argv = argv
        self.before_end()
        return self.code


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []

    def execv(path: str, argv: list[str]) -> None:
        calls.append((path, list(argv)))
        raise _Started

    monkeypatch.setattr(sweeping.os, "execv", execv)
    monkeypatch.setattr(sweeping.time, "sleep", lambda seconds: None)
    return calls


def _run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, celery: _Celery) -> int:
    monkeypatch.setattr(sweeping, "make_celery", lambda settings: celery)
    settings = replace(settings_for("sqlite://", var_dir=tmp_path), broker_url="redis://x")
    return sweeping.run_celery_worker(settings, "--pool=solo")


def test_a_worker_ended_by_an_error_starts_again_as_the_same_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, started: list[tuple[str, list[str]]]
) -> None:
    celery = _Celery(1)  # Celery's "Unrecoverable error": EX_FAILURE
    with pytest.raises(_Started):
        _run(monkeypatch, tmp_path, celery)
    assert started == [(sys.executable, sys.orig_argv)]
    assert celery.argv[0] == "worker" and "--pool=solo" in celery.argv


def test_a_worker_asked_to_stop_or_started_wrongly_stops_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, started: list[tuple[str, list[str]]]
) -> None:
    def cold_shutdown() -> None:  # what Celery's SIGQUIT handler sends before exiting 1
        worker_shutting_down.send(sender="w", sig="SIGQUIT", how="Cold", exitcode=1)

    assert _run(monkeypatch, tmp_path, _Celery(1, cold_shutdown)) == 1
    assert _run(monkeypatch, tmp_path, _Celery(0)) == 0
    assert _run(monkeypatch, tmp_path, _Celery(None)) == 0
    assert _run(monkeypatch, tmp_path, _Celery(2)) == 2  # a usage error: it would fail again
    assert started == []


# A process of its own whose Celery ends on an error once: it must come back as the same
# process (same pid, same command) and then stop when its worker stops cleanly.
_ONCE = """
import os, sys
from dataclasses import replace
from pathlib import Path
from hcs.worker import sweeping
from tests.support.world import settings_for

runs = Path(sys.argv[1])
runs.write_text(runs.read_text() + f"{os.getpid()}\\n" if runs.exists() else f"{os.getpid()}\\n")

class Celery:
    def start(self, argv):
        return 1 if len(runs.read_text().split()) == 1 else 0

sweeping.make_celery = lambda settings: Celery()
sweeping.RESTART_PAUSE_S = 0.0
settings = replace(settings_for("sqlite://", var_dir=Path(sys.argv[2])), broker_url="redis://x")
sys.exit(sweeping.run_celery_worker(settings))
"""


def test_the_process_started_again_is_the_same_process_running_the_same_command(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _ONCE, str(runs), str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pids = runs.read_text().split()
    assert len(pids) == 2 and pids[0] == pids[1]
    assert "starting it again" in done.stderr
