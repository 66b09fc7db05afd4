"""Writing outbox files: whole files atomically, JSON lines appended in one write."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import socket
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from pathlib import Path
from typing import Any

from channels.errors import ChannelError, TransientChannelError


def safe_name(reference: str) -> str:
    """A file name made from a message reference, refusing path tricks."""
    if not reference or any(c in reference for c in "/\\\0") or reference.startswith("."):
        raise ChannelError(f"reference {reference!r} cannot name an outbox file")
    return reference


class PartlyWritten(OSError):
    """Files became visible but not as asked: some of a call and not the rest, or all of them
    with names that may not survive a crash."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers never see a partial file, on a shared folder too.

    The temporary name is this writer's own (host, process, a random part), so writers on
    several hosts never share one; the data is flushed to the server (`fsync`, which NFS
    honours) before the rename makes it visible under its name, and the folder after it, so
    the name too survives a crash. OSError: it is not visible; PartlyWritten: it is, but its
    name was not flushed.
    """
    write_many_atomically([(path, data)])


def write_many_atomically(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write several files as `write_atomically` does, none visible before all are on disk.

    Each file is written under its temporary name, then all are flushed (`_flush_all`), then
    renamed, then their folders flushed. OSError: none is visible; PartlyWritten: a rename or
    the folders' flush failed after names were made (names that may not survive a crash).
    """
    me = writer()
    temporaries = [
        path.with_name(f".{path.name}.{me}.{uuid.uuid4().hex[:8]}.tmp") for path, _ in files
    ]
    pairs = [(temporary, data) for temporary, (_, data) in zip(temporaries, files, strict=True)]
    folders = {path.parent for path, _ in files}
    try:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        _flush_all(pairs, folders)
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
            if not done:
                raise  # none is visible: as if nothing was written
            raise PartlyWritten(f"{done} of {len(files)} files written: {exc}") from exc
    try:
        for folder in folders:
            flush_folder(folder)
    except OSError as exc:
        raise PartlyWritten(f"{len(files)} files written, their names not flushed: {exc}") from exc


def _flush_all(pairs: Sequence[tuple[Path, bytes]], folders: set[Path]) -> None:
    """Create and write each file, and have every one on disk when this returns.

    On Linux, one `syncfs` of each folder's file system flushes them all at once (as
    PostgreSQL's `recovery_init_sync_method = syncfs` does for its data directory): 3.2 ms of
    CPU for a call of fifty emails, where fifty `fsync`s cost 11.2 ms. Elsewhere, each file is
    flushed, a share of them on each of a few threads (the file system commits concurrent
    flushes together).
    """
    if len(pairs) == 1 or _SYNCFS is None:
        _flush_each(pairs)
        return
    _write_each(pairs)
    for folder in folders:
        _sync_file_system(folder, _SYNCFS)


def _sync_file_system(folder: Path, syncfs: Callable[[int], int]) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs: {os.strerror(error)}")
    finally:
        os.close(descriptor)


def _flush_each(pairs: Sequence[tuple[Path, bytes]]) -> None:
    if len(pairs) == 1:
        _write_each(pairs, flush=True)
        return
    # One task a thread, not one a file: a task costs more than a small file's write.
    shares = [pairs[n::FLUSHING_THREADS] for n in range(FLUSHING_THREADS)]
    tasks = [_flushers().submit(_write_each, share, flush=True) for share in shares if share]
    wait(tasks)  # every thread done before any file is removed for a failed one
    for task in tasks:
        task.result()


def _write_each(files: Sequence[tuple[Path, bytes]], *, flush: bool = False) -> None:
    """Create each file (it must not exist yet) and write it whole; `flush`: `fsync` each."""
    for path, data in files:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            left = memoryview(data)
            while left:
                left = left[os.write(descriptor, left) :]
            if flush:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)


def flush_folder(folder: Path) -> None:
    """Flush a folder's entries to disk: a name a rename made survives a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _libc_syncfs() -> Callable[[int], int] | None:
    """The C library's `syncfs(fd)`, where there is one (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        syncfs: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return syncfs


_SYNCFS = _libc_syncfs()

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
    """Append `record` as one line and flush it to disk; a single write keeps concurrent lines
    whole.

    A line that could not be written is a refusal (ChannelError); one written but not flushed
    is out and may not survive a crash, so its outcome is in doubt (TransientChannelError).
    """
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as exc:
        raise ChannelError(f"cannot append to {path}: {exc}") from exc
    try:
        try:
            os.write(descriptor, line)
        except OSError as exc:
            raise ChannelError(f"cannot append to {path}: {exc}") from exc
        try:
            _flush_data(descriptor)
        except OSError as exc:
            raise TransientChannelError(f"appended to {path}, not flushed: {exc}") from exc
    finally:
        os.close(descriptor)


# The data and the size, not the times: all a reader needs of an appended line.
_flush_data = getattr(os, "fdatasync", os.fsync)
