"""Loopback HTTP servers for the tests: pytest-httpserver's, stopping at once."""

from __future__ import annotations

from pytest_httpserver import HTTPServer


class LoopbackServer(HTTPServer):
    """pytest-httpserver's server whose thread looks for a stop every 20 ms, not every 0.5 s
    (socketserver's default): each test's teardown waited that half second out."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)
