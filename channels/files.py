"""Writing outbox files: whole files atomically, JSON lines appended in one write."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from pathlib import Path
from typing import Any

from channels.errors import ChannelError


def safe_name(reference: str) -> str:
    """A file name made from a message reference, refusing path tricks."""
    if not reference or any(c in reference for c in "/\\\0") or reference.startswith("."):
        raise ChannelError(f"reference {reference!r} cannot name an outbox file")
    return reference


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers never see a partial file, on a shared folder too.

    The temporary name is this writer's own (host, process, a random part), so writers on
    several hosts never share one; the data is flushed to the server (`fsync`, which NFS
    honours) before the rename makes it visible under its name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{writer()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class PartlyWritten(OSError):
    """Some files of a `write_many_atomically` call became visible, the rest did not."""


def write_many_atomically(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write several files as `write_atomically` does, none visible before all are on disk.

    Each file is written and flushed under its temporary name, a share of them on each of a
    few threads (the file system commits concurrent flushes together: several times faster
    than one after another here), then all are renamed. OSError: none is visible;
    PartlyWritten: a rename failed after others were made.
    """
    me = writer()
    temporaries = [
        path.with_name(f".{path.name}.{me}.{uuid.uuid4().hex[:8]}.tmp") for path, _ in files
    ]
    pairs = [(temporary, data) for temporary, (_, data) in zip(temporaries, files, strict=True)]
    try:
        for folder in {path.parent for path, _ in files}:
            folder.mkdir(parents=True, exist_ok=True)
        if len(pairs) == 1:
            _write_and_flush(pairs)
        else:  # one task a thread, not one a file: a task costs more than a small file's write
            shares = [pairs[n::FLUSHING_THREADS] for n in range(FLUSHING_THREADS)]
            tasks = [_flushers().submit(_write_and_flush, share) for share in shares if share]
            wait(tasks)  # every thread done before any file is removed for a failed one
            for task in tasks:
                task.result()
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    for done, (temporary, (path, _)) in enumerate(zip(temporaries, files, strict=True)):
        try:
            os.replace(temporary, path)
        except OSError as exc:
            for left in temporaries[done:]:
                left.unlink(missing_ok=True)
            raise PartlyWritten(f"{done} of {len(files)} files written: {exc}") from exc


def _write_and_flush(files: Sequence[tuple[Path, bytes]]) -> None:
    """Create each file (it must not exist yet), write it whole and flush it to disk."""
    for path, data in files:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            left = memoryview(data)
            while left:
                left = left[os.write(descriptor, left) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


FLUSHING_THREADS = 8
_FLUSHERS: dict[int, ThreadPoolExecutor] = {}


def _flushers() -> ThreadPoolExecutor:
    """This process's flushing threads (a forked worker starts its own)."""
    pid = os.getpid()
    if pid not in _FLUSHERS:
        _FLUSHERS.clear()
        _FLUSHERS[pid] = ThreadPoolExecutor(FLUSHING_THREADS, thread_name_prefix="hcs-flush")
    return _FLUSHERS[pid]


def writer() -> str:
    """This process, as file names carry it: host and process id."""
    return f"{_host()}-{os.getpid()}"


@cache
def _host() -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())


def write_json_atomically(path: Path, record: Mapping[str, Any]) -> None:
    """Write `record` as one JSON document, whole or not at all."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise ChannelError(f"cannot write {path}: {exc}") from exc


def append_json_line(path: Path, record: Mapping[str, Any]) -> None:
    """Append `record` as one line; a single write keeps concurrent lines whole."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise ChannelError(f"cannot append to {path}: {exc}") from exc
