"""Loopback servers for the channel tests: HTTP (pytest-httpserver), SMTP (aiosmtpd), TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.support.httpservers import LoopbackServer
from tests.support.mail import SmtpServer, run_smtp


@pytest.fixture
def loopback() -> Iterator[HTTPServer]:
    """A pytest-httpserver on 127.0.0.1 that fails the test on unexpected requests."""
    server = LoopbackServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def _no_twilio_region(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both variables rewrite the Twilio host, which would defeat the loopback server.
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and a login."""
    yield from run_smtp(tmp_path, implicit_tls=False)


@pytest.fixture
def smtps_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 speaking TLS from the first byte (port-465 style), with a login."""
    yield from run_smtp(tmp_path, implicit_tls=True)


@pytest.fixture(scope="session")
def letter_renderers() -> Iterator[dict[str, Any]]:
    """Letter renderer processes shared by the tests, one per settings name, closed at the end."""
    from channels.letter import LetterRenderer

    cache: dict[str, LetterRenderer] = {}
    yield cache
    for renderer in cache.values():
        renderer.close()
