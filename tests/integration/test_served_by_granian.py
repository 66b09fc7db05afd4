"""The app as the API processes run it: under Granian's WSGI interface, in a process of its own.

What an operator checks after deploying: it answers `/healthz`, a send is accepted and stored,
a bad send is refused by name and stores nothing, a connection stays open between calls, a body
past the app's limit is refused, a large file arrives whole, and the app sees the caller's
address as Granian reports it (`REMOTE_ADDR`, the peer's bare IP; `/metrics` trusts loopback),
and never the process's own environment as the caller's headers.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hcs.http.bodies import MAX_BYTES
from hcs.messages.models import Message
from tests.support.databases import Databases
from tests.support.flows import ORDER, published
from tests.support.processes import stop_group
from tests.support.server import free_port
from tests.support.world import World, own_world

STATIC = Path(__file__).resolve().parents[2] / "hcs/http/static/vendor/codemirror/lib/codemirror.js"


@dataclass
class Served:
    """The app under Granian on `port`, and the world whose database it serves."""

    port: int
    world: World

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """One request on a connection of its own; the status and the body."""
        with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)) as conn:
            status, data, _ = exchange(conn, method, path, body, headers)
        return status, data

    def messages(self) -> int:
        with self.world.app.extensions["hcs"].sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, http.client.HTTPResponse]:
    """One request on `connection`: the status, the body read whole, and the response."""
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if payload is not None else {}
    connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    return response.status, response.read(), response


def _wait_until_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=2)) as conn:
                if exchange(conn, "GET", "/healthz")[0] == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"Granian did not answer /healthz within 20 s: {log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    stop_group(process, timeout=10)


@pytest.fixture(scope="module")
def served(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The README's API process settings (one worker here) on a migrated SQLite file."""
    directory = tmp_path_factory.mktemp("granian")
    with own_world(databases, "sqlite", directory) as world:
        published(world)
        settings = world.app.extensions["hcs"].settings
        port, log = free_port(), directory / "granian.log"
        # Granian starts each request's environ from its own: a working API key is left in it as
        # `HTTP_AUTHORIZATION`, which the app must not read as a header nobody sent.
        env = {name: value for name, value in os.environ.items() if not name.startswith("HTTP_")}
        env |= {
            "HCS_DATABASE_URL": settings.database_url,
            "HCS_SECRET_KEY": settings.secret_key,
            "HCS_VAR_DIR": str(settings.var_dir),
            "HTTP_AUTHORIZATION": f"Bearer {world.keys['root@example.com']}",
        }
        env.pop("HCS_METRICS_TOKEN", None)
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "1"]
        command += ["--blocking-threads", "2", "--runtime-threads", "1", "--runtime-mode", "st"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        command += ["--factory", "hcs.http.app:create_app"]
        with log.open("wb") as out:  # cwd: the test's folder, so no developer's .env is read
            process = subprocess.Popen(
                command, cwd=directory, env=env, stdout=out, stderr=out, start_new_session=True
            )
        try:
            _wait_until_healthy(port, process, log)
            yield Served(port, world)
        finally:
            _stop(process)


def _key(served: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.world.keys['system']}"}


def test_the_process_environment_is_not_read_as_the_callers_headers(served: Served) -> None:
    status, body = served.call("GET", "/api/v1/messages")
    assert status == 401, body  # the key in HTTP_AUTHORIZATION is the process's, not the caller's
    status, body = served.call("POST", "/api/v1/messages", ORDER)
    assert status == 401, body


def test_healthz_answers_under_granian(served: Served) -> None:
    status, body = served.call("GET", "/healthz")
    assert status == 200, body


def test_a_send_is_accepted_and_stored(served: Served) -> None:
    before = served.messages()
    status, body = served.call("POST", "/api/v1/messages", ORDER, _key(served))
    assert status == 202, body
    answer = json.loads(body)
    assert answer["status"] == "accepted"
    with served.world.app.extensions["hcs"].sessions() as session:
        assert session.get(Message, answer["id"]) is not None
    assert served.messages() == before + 1


def test_a_bad_send_names_the_field_and_stores_nothing(served: Served) -> None:
    before = served.messages()
    bad = {**ORDER, "to": {"email": "not-an-address"}}
    status, body = served.call("POST", "/api/v1/messages", bad, _key(served))
    assert status == 422 and "to.email" in json.loads(body)["errors"], body
    status, body = served.call("POST", "/api/v1/messages", b'{"to": 1, "to": 2}', _key(served))
    assert status == 400 and "twice" in json.loads(body)["errors"]["json"][0], body
    assert served.messages() == before


def test_two_calls_share_one_keep_alive_connection(served: Served) -> None:
    with closing(http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)) as conn:
        status, _, first = exchange(conn, "POST", "/api/v1/messages", ORDER, _key(served))
        assert status == 202 and not first.will_close
        sock = conn.sock
        assert exchange(conn, "POST", "/api/v1/messages", ORDER, _key(served))[0] == 202
        assert conn.sock is sock  # after a close, http.client would have connected again


def test_a_body_past_the_limit_is_refused(served: Served) -> None:
    before = served.messages()
    head = (
        "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Authorization: {_key(served)['Authorization']}\r\n"
        f"Content-Length: {MAX_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head.encode())  # refused on its length, before any of the body is sent
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert served.messages() == before


def test_a_large_file_arrives_whole(served: Served) -> None:
    status, body = served.call("GET", "/static/vendor/codemirror/lib/codemirror.js")
    assert status == 200
    assert body == STATIC.read_bytes()


def test_the_app_sees_the_callers_address_as_loopback(served: Served) -> None:
    # /metrics with no HCS_METRICS_TOKEN serves loopback callers only: REMOTE_ADDR is the bare
    # peer address, and a client's X-Forwarded-For changes nothing.
    status, body = served.call("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert status == 200 and b"hcs_" in body, body[:200]


def _chunked(body: bytes, size: int = 1 << 16) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_chunked_body_past_the_limit_is_refused(served: Served) -> None:
    """Valid JSON padded to the bound, sent with no length: before the fix its first MAX_BYTES
    were read and the send stored. It is exactly the bound so that the server reads it all
    before answering: a longer one gets the same 413, but the server then closes with bytes
    unread and the client, still sending, may meet a reset before it can read the answer."""
    before = served.messages()
    start = json.dumps(ORDER).encode()
    body = start + b" " * (MAX_BYTES - len(start))
    with closing(http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)) as conn:
        conn.putrequest("POST", "/api/v1/messages")
        for name, value in {**_key(served), "Content-Type": "application/json"}.items():
            conn.putheader(name, value)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for piece in _chunked(body):
            conn.send(piece)
        response = conn.getresponse()
        status, answer = response.status, response.read()
    assert (status, served.messages()) == (413, before), answer
