"""Gunicorn or Granian in a subprocess on a free loopback port, and a bounded keep-alive load
generator.

The load generator speaks just enough HTTP/1.1 over raw sockets (pre-encoded requests, responses
framed by Content-Length) to cost far less CPU than `http.client`: on two cores it shares the
machine with the server, and every microsecond it spends is one the server does not get.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
# gthread workers keep a client's connection open between requests (keep-alive, 2 s idle), as
# gunicorn's sync workers cannot: neither side pays a TCP connect and close per request. One
# thread each: more let a process's requests wait on each other's SQLite write lock (measured
# here with 4: p99 110-160 ms against 70-90 ms). Both the pipeline and the bare endpoint are
# served this way, so their ratio stays like for like.
SERVER_OPTIONS = ("--worker-class", "gthread", "--threads", "1")
# Granian reads and writes HTTP on a Rust runtime (one thread per worker is plenty for a few
# connections) and runs the app on the worker's Python threads ("blocking threads"). Two, as
# measured A/B, interleaved (README, "How fast it accepts and sends"): while one waits for the
# database (PostgreSQL's process, or SQLite's writer queue) the other works, 10-30% more sends
# a second than one thread at about the same CPU a send and p99.
GRANIAN_OPTIONS = ("--blocking-threads", "2", "--runtime-threads", "1", "--runtime-mode", "st")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request_bytes(
    method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
) -> bytes:
    """One HTTP/1.1 keep-alive request, encoded once."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(payload)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class Connection:
    """One keep-alive client connection; reconnects when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port, self.sock, self.buffer = port, None, b""

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; the status and body of its response."""
        if self.sock is None:
            self.sock = self._open()
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(fields.get("content-length", "0"))
        while len(rest) < length:
            self.buffer = rest
            self._fill()
            rest = self.buffer
        body, self.buffer = rest[:length], rest[length:]
        if fields.get("connection", "") == "close":
            self.close()
        return int(lines[0].split()[1]), body

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection mid-response")
        self.buffer += chunk


@dataclass(frozen=True)
class Load:
    """What one bounded run of requests measured."""

    elapsed: float
    latencies: list[float]
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


def run_load(port: int, requests: Sequence[bytes], *, connections: int = 8) -> Load:
    """Send every request once over `connections` keep-alive connections; time each one."""
    lock, position = threading.Lock(), iter(range(len(requests)))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []

    def client() -> None:
        connection, mine, codes = Connection(port), [], Counter[int]()
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    break
                start = time.perf_counter()
                status, _ = connection.exchange(requests[index])
                mine.append(time.perf_counter() - start)
                codes[status] += 1
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                statuses.update(codes)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return Load(elapsed, latencies, statuses)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = Connection(port)
            status, _ = connection.exchange(request_bytes("GET", path))
            connection.close()
            if status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start serving within 30 s")


@contextmanager
def _serving(
    command: list[str], port: int, env: Mapping[str, str] | None, ready_path: str
) -> Iterator[int]:
    """Run `command` in a session of its own until it answers `ready_path`; yields the port."""
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, start_new_session=True
    )
    try:
        _wait_until_serving(port, process, ready_path)
        yield port
    finally:
        stop_group(process, timeout=15)


@contextmanager
def gunicorn(
    app: str, env: Mapping[str, str] | None = None, *, ready_path: str = "/healthz"
) -> Iterator[int]:
    """Serve `app` ("module:factory()") with two single-thread gthread workers; yields the port."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), *SERVER_OPTIONS]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    with _serving(command, port, env, ready_path):
        yield port


@contextmanager
def granian(
    app: str,
    env: Mapping[str, str] | None = None,
    *,
    ready_path: str = "/healthz",
    options: Sequence[str] = GRANIAN_OPTIONS,
) -> Iterator[int]:
    """Serve `app` ("module:factory()") with Granian's WSGI interface, two workers of `options`;
    yields the port."""
    port = free_port()
    target, factory = app.removesuffix("()"), app.endswith("()")
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(WORKERS)]
    command += list(options)
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--factory", target] if factory else [target]
    with _serving(command, port, env, ready_path):
        yield port


Serve = Callable[..., AbstractContextManager[int]]
# Each server as the README deploys the API, by name.
SERVERS: dict[str, Serve] = {"gunicorn": gunicorn, "granian": granian}
