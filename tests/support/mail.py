"""A loopback SMTP server (aiosmtpd) with a self-signed certificate and a login."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import free_port

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret"


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


def run_smtp(tmp_path: Path, *, implicit_tls: bool) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 until the generator is closed; STARTTLS or TLS from the start."""
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    state = SmtpServer("127.0.0.1", free_port(), ssl.create_default_context(cafile=str(cert)))

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


@dataclass
class PlainSmtpSink:
    """An SMTP server without TLS or login that records every message it takes."""

    host: str
    port: int
    received: list[Envelope] = field(default_factory=list)
    # Each client connection's peer address, once: how many connections were opened.
    connections: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if session.peer not in self.connections:
            self.connections.append(session.peer)
        return responses


def run_plain_smtp() -> Iterator[PlainSmtpSink]:
    """A recording SMTP sink on 127.0.0.1 until the generator is closed."""
    sink = PlainSmtpSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()
