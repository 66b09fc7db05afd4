"""Letters in shared storage: a worker whose letters would stay on its host says so at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from hcs.channels.letter import local_letters_warning
from hcs.infrastructure.config import Settings
from hcs.infrastructure.delivery import read_delivery

POSTGRES = "postgresql+psycopg://hcs:hcs@127.0.0.1:1/hcs"  # never reached before the warning


def settings(url: str, **environ: str) -> Settings:
    return replace(Settings(), database_url=url, delivery=read_delivery(environ))


def test_on_sqlite_letters_under_the_var_dir_are_fine() -> None:
    assert local_letters_warning(settings("sqlite:///var/hcs.db")) is None


def test_on_a_shared_database_the_outbox_and_a_default_folder_are_local() -> None:
    warning = local_letters_warning(settings(POSTGRES))
    assert warning is not None and "stay on this host" in warning and "HCS_LETTER_FOLDER" in warning
    folder = settings(POSTGRES, HCS_LETTER_PROVIDER="folder")
    assert "folder provider" in (local_letters_warning(folder) or "")


def test_a_configured_shared_folder_draws_no_warning() -> None:
    shared = settings(POSTGRES, HCS_LETTER_PROVIDER="folder", HCS_LETTER_FOLDER="/mnt/print")
    assert local_letters_warning(shared) is None


def _worker_stderr(tmp_path: Path, *args: str) -> str:
    """What `hcs worker` wrote to stderr by the time it said it was dispatching."""
    environ = {**os.environ, "HCS_DATABASE_URL": POSTGRES, "HCS_VAR_DIR": str(tmp_path)}
    environ.pop("HCS_BROKER_URL", None)
    argv = [sys.executable, "-c", "from hcs.cli import main; main()", "worker", *args]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(argv, env=environ, cwd=tmp_path, text=True, **pipes) as process:
        assert process.stdout is not None
        started = process.stdout.readline()  # printed after any warning
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert started.startswith("HCS worker: dispatching")
    return errors


def test_hcs_worker_on_a_shared_database_warns_in_one_line(tmp_path: Path) -> None:
    line = _worker_stderr(tmp_path, "--queues", "letter,email").splitlines(keepends=True)[0]
    assert line.startswith("warning: letters (outbox provider) are written under ")
    assert str(tmp_path) in line and line.endswith("shared directory\n")


def test_a_worker_without_the_letter_lane_does_not_warn(tmp_path: Path) -> None:
    assert "letters" not in _worker_stderr(tmp_path, "--queues", "sms")
