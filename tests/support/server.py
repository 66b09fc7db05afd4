"""A real HTTP server on 127.0.0.1 around an app, for tests that need concurrent requests."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


def _buffered(app: Flask) -> Any:
    """The app with each answer read whole and closed before it is written.

    Werkzeug's development server skips closing an answer when the client drops the connection
    while it is still being read (a browser leaving a page mid-load), so a static file would stay
    open and its ResourceWarning fail whichever test happened to be running.
    """

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port with one thread per request; yields the base URL."""
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def post_json(url: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    """POST JSON with a Bearer key; the status and the decoded answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
