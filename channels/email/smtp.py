"""SMTP through smtplib, with STARTTLS and authentication."""

from __future__ import annotations

import smtplib
import ssl

from channels.core import SendResult
from channels.email.message import PreparedEmail, to_mime
from channels.errors import ChannelError, InvalidRecipient, TransientChannelError


def _smtp_error(exc: smtplib.SMTPException) -> ChannelError:
    """Map an smtplib error: 4xx replies and lost connections are transient."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = next((c for c, _ in exc.recipients.values()), None)
    raw = getattr(exc, "smtp_error", b"") or str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        raw = next((r for _, r in exc.recipients.values()), raw)
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    transient = isinstance(exc, smtplib.SMTPServerDisconnected) or (
        isinstance(code, int) and 400 <= code < 500
    )
    kind: type[ChannelError] = TransientChannelError if transient else ChannelError
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and not transient:
        kind = InvalidRecipient
    if isinstance(exc, smtplib.SMTPServerDisconnected):  # perhaps after DATA: not a refusal
        return kind(f"SMTP server dropped the connection: {reason}", reason=reason)
    return kind(f"SMTP server refused the message: {code} {reason}", status=code, reason=reason)


class SmtpEmail:
    """Sends through an SMTP server: STARTTLS on 587 by default, or implicit TLS (465)."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        implicit_tls: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls = starttls and not implicit_tls
        self.implicit_tls = implicit_tls
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _deliver(self, prepared: PreparedEmail) -> None:
        with self._connect() as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(
                to_mime(prepared), from_addr=prepared.from_address, to_addrs=[prepared.recipient]
            )

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Deliver to the server; the id is the Message-ID header."""
        try:
            self._deliver(prepared)
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except (OSError, ssl.SSLError) as exc:
            # Only a refused connection certainly sent nothing; a timeout mid-DATA may have.
            refused = isinstance(exc, ConnectionRefusedError)
            message = f"SMTP server unreachable: {exc}"
            raise TransientChannelError(message, reason=str(exc), refused=refused) from exc
        return SendResult(self.name, prepared.header("Message-ID") or prepared.reference)
