"""Loopback servers for the channel tests: HTTP (pytest-httpserver), SMTP (aiosmtpd), TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret"


@pytest.fixture
def loopback() -> Iterator[HTTPServer]:
    """A pytest-httpserver on 127.0.0.1 that fails the test on unexpected requests."""
    server = HTTPServer(host="127.0.0.1", port=0)
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


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class SmtpServer:
    """A running aiosmtpd server and what it received."""

    host: str
    port: int
    client_context: ssl.SSLContext
    received: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.server.received.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _smtp(tmp_path: Path, *, implicit_tls: bool) -> Iterator[SmtpServer]:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    state = SmtpServer("127.0.0.1", _free_port(), ssl.create_default_context(cafile=str(cert)))

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        ):
            state.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    tls: dict[str, Any] = (
        {"ssl_context": server_context, "auth_require_tls": False}  # TLS from the first byte
        if implicit_tls
        else {"tls_context": server_context, "require_starttls": True}
    )
    controller = Controller(
        _Handler(state),
        hostname="127.0.0.1",
        port=state.port,
        authenticator=authenticate,
        **({"auth_require_tls": True} | tls),
    )
    controller.start()
    yield state
    controller.stop()


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and a login."""
    yield from _smtp(tmp_path, implicit_tls=False)


@pytest.fixture
def smtps_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 speaking TLS from the first byte (port-465 style), with a login."""
    yield from _smtp(tmp_path, implicit_tls=True)


def png(width: int, height: int, colour: str = "navy") -> bytes:
    """A solid PNG of the given size."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def letter_renderers() -> Iterator[dict[str, Any]]:
    """Letter renderer processes shared by the tests, one per settings name, closed at the end."""
    from channels.letter import LetterRenderer

    cache: dict[str, LetterRenderer] = {}
    yield cache
    for renderer in cache.values():
        renderer.close()
