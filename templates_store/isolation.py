"""Author-controlled templates render in a small pool of child processes with hard limits.

Each child lives under an address-space limit (``RLIMIT_AS``) and, per render, a CPU-seconds
limit (``RLIMIT_CPU``, whose SIGXCPU kills it); the parent waits at most a wall-clock deadline,
then kills the child (it does not ask) and starts a fresh one. The sandbox's own budgets still
apply inside the child; these limits catch what the sandbox cannot interrupt, such as one
filter call that runs for a minute or allocates a gigabyte.

Children are fresh interpreters (``python -m templates_store.render_child``), so they never
inherit the web process's threads, locks or database connections, nor re-run its main module.
Starting one costs about half a second of CPU: the pool starts them ahead of need, and a
killed child's successor starts in the background.
"""

from __future__ import annotations

import atexit
import math
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from templates_store import errors
from templates_store.rendering import BlockSource, Limits, render, render_css

_STARTUP_SECONDS = 30.0
_EXHAUSTED = "rendering used up its memory or CPU allowance and was stopped"
_PROBLEMS: dict[str, type[errors.TemplateProblem]] = {
    kind.__name__: kind
    for kind in (
        errors.TemplateProblem,
        errors.TemplateSyntaxProblem,
        errors.RenderError,
        errors.SandboxViolation,
        errors.RenderTimeout,
        errors.RenderLimit,
    )
}


@dataclass(frozen=True)
class PartJob:
    """One part to render: its source and what it sees (`kind` is html, text or css)."""

    source: str
    part: str
    kind: str
    locale: str
    data: Mapping[str, Any]
    brand: Mapping[str, Any]
    blocks: Mapping[str, BlockSource]


@dataclass(frozen=True)
class PoolLimits:
    """The hard bounds of each child: address space, CPU seconds and wall-clock grace."""

    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: float | None = None  # default: the render's own deadline, rounded up, plus 1
    grace_seconds: float = 0.5  # beyond the render deadline, for the round trip


def render_job(job: PartJob, limits: Limits) -> str:
    """Render one part in this process (the sandbox's budgets apply, no hard limits)."""
    if job.kind == "css":
        return render_css(
            job.source, part=job.part, brand=job.brand, locale=job.locale, limits=limits
        )
    output = render(
        job.source,
        part=job.part,
        html=job.kind == "html",
        data=job.data,
        locale=job.locale,
        brand=job.brand,
        blocks=job.blocks,
        limits=limits,
    )
    return str(output)


def render_jobs(jobs: Sequence[PartJob], limits: Limits) -> list[str]:
    """Render parts in order in this process; the first problem is raised."""
    return [render_job(job, limits) for job in jobs]


class _Child:
    """One child interpreter and the parent's end of its socket pair."""

    def __init__(self, memory_bytes: int) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            command = [sys.executable, "-m", "templates_store.render_child"]
            self.process = subprocess.Popen(
                [*command, str(theirs.fileno()), str(memory_bytes)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
            self.connection = Connection(os.dup(ours.fileno()))
        if not (self.connection.poll(_STARTUP_SECONDS) and self._said_ready()):
            self.kill()
            raise RuntimeError("a template render process did not start")

    def _said_ready(self) -> bool:
        try:
            return bool(self.connection.recv() == ("ready",))
        except (EOFError, OSError):
            return False

    def is_alive(self) -> bool:
        """Whether the child still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """End the child at once, whatever it is doing."""
        self.process.kill()
        self.process.wait(timeout=5)
        self.connection.close()

    def stop(self) -> None:
        """Ask an idle child to exit."""
        try:
            self.connection.send(None)
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(timeout=5)
        self.connection.close()


class RenderPool:
    """Up to `size` child processes that render parts under hard limits."""

    def __init__(self, size: int = 2, limits: PoolLimits = PoolLimits()) -> None:
        self.size = size
        self.limits = limits
        self._slots = threading.BoundedSemaphore(size)
        self._ready = threading.Condition()
        self._idle: list[_Child] = []
        self._starting = 0
        self._pid = os.getpid()
        self._closed = False

    def _take(self) -> _Child:
        with self._ready:
            if self._pid != os.getpid():  # inherited through a fork: the children are not ours
                self._idle, self._starting, self._pid = [], 0, os.getpid()
            while True:
                while self._idle:
                    child = self._idle.pop()
                    if child.is_alive():
                        return child
                    child.kill()
                if not self._starting:
                    break
                self._ready.wait(_STARTUP_SECONDS)  # one being started will be ours
        return _Child(self.limits.memory_bytes)

    def _give_back(self, child: _Child) -> None:
        with self._ready:
            self._idle.append(child)
            self._ready.notify()

    def render(self, jobs: Sequence[PartJob], limits: Limits = Limits()) -> list[str]:
        """Render parts in a child; RenderTimeout or RenderLimit when a hard bound stops it."""
        if not jobs:
            return []
        cpu = self.limits.cpu_seconds or limits.max_seconds + 1
        with self._slots:
            child = self._take()
            try:
                child.connection.send((list(jobs), limits, math.ceil(cpu)))
                reply = self._await(child, jobs, limits.max_seconds + self.limits.grace_seconds)
            except (errors.RenderTimeout, errors.RenderLimit):
                self._replace(child)
                raise
            except OSError:  # the child died while idle
                self._replace(child)
                raise errors.RenderLimit(jobs[0].part, _EXHAUSTED) from None
            if reply[0] == "problem" and reply[1] == "RenderLimit":
                self._replace(child)  # one that hit its memory bound may be fragmented
            else:
                self._give_back(child)
        return _answer(reply)

    def _replace(self, child: _Child) -> None:
        """Kill `child` and start its successor in the background."""
        child.kill()
        self.warm(1)

    def warm(self, count: int | None = None) -> None:
        """Start children in the background (by default up to `size`) so renders find one ready."""
        with self._ready:
            wanted = self.size - len(self._idle) - self._starting if count is None else count
            self._starting += max(wanted, 0)
        for _ in range(wanted):
            threading.Thread(target=self._add, name="hcs-render-start", daemon=True).start()

    def _add(self) -> None:
        try:
            child: _Child | None = _Child(self.limits.memory_bytes)
        except RuntimeError:
            child = None
        with self._ready:
            self._starting -= 1
            self._ready.notify_all()
            if child is not None and len(self._idle) < self.size and not self._closed:
                self._idle.append(child)
                return
        if child is not None:
            child.stop()

    @staticmethod
    def _await(child: _Child, jobs: Sequence[PartJob], seconds: float) -> tuple[Any, ...]:
        """The child's answer, each part given `seconds` from its start; else RenderTimeout."""
        part = jobs[0].part
        while child.connection.poll(seconds):
            try:
                message: tuple[Any, ...] = child.connection.recv()
            except (EOFError, OSError):  # killed by SIGXCPU, or died for want of memory
                raise errors.RenderLimit(part, _EXHAUSTED) from None
            if message[0] != "part":
                return message
            part = jobs[message[1]].part
        raise errors.RenderTimeout(
            part, f"rendering took longer than {seconds:g} s and was stopped"
        )

    def close(self) -> None:
        """Stop every idle child; the pool starts no more in the background."""
        with self._ready:
            idle, self._idle, self._closed = self._idle, [], True
        for child in idle:
            child.stop()


def _answer(reply: tuple[Any, ...]) -> list[str]:
    if reply[0] == "ok":
        return list(reply[1])
    _, kind, part, cause, *line = reply
    raise _PROBLEMS.get(kind, errors.RenderError)(part, cause, line[0] if line else None)


_default: RenderPool | None = None
_default_lock = threading.Lock()


def default_pool() -> RenderPool:
    """The process's shared pool, started on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = RenderPool()
            _default.warm()
            atexit.register(_default.close)
        return _default


def render_isolated(jobs: Sequence[PartJob], limits: Limits = Limits()) -> list[str]:
    """Render parts in the shared pool of child processes."""
    return default_pool().render(jobs, limits)
