"""A loopback HTTP/1.1 server that keeps connections open, as real APIs do, and notes which
connection each request came on (werkzeug's test server closes every connection)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class KeepAlive:
    """The server's address and, per request, the path and the client port it came from."""

    url: str
    requests: list[tuple[str, int]] = field(default_factory=list)


@contextmanager
def keepalive_server(answer: dict[str, Any], status: int = 201) -> Iterator[KeepAlive]:
    """Answer every POST with `answer` as JSON, keeping the connection open."""
    body = json.dumps(answer).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.requests.append((self.path, self.client_address[1]))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    seen = KeepAlive(f"http://127.0.0.1:{server.server_address[1]}/")
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
