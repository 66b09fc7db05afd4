"""SMTP through smtplib, with STARTTLS and authentication, one reused connection per thread."""

from __future__ import annotations

import smtplib
import ssl
import threading
import weakref

from channels.core import SendResult
from channels.email.message import PreparedEmail, to_mime
from channels.errors import ChannelError, InvalidRecipient, TransientChannelError


def _smtp_error(exc: smtplib.SMTPException, *, opening: bool = False) -> ChannelError:
    """Map an smtplib error: 4xx replies and lost connections are transient.

    `opening`: it happened before any of the message went over the connection, so whatever
    it was (a dropped connection, a 421 greeting) is a refusal: nothing was sent.
    """
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
        return kind(
            f"SMTP server dropped the connection: {reason}",
            reason=reason,
            refused=True if opening else None,
        )
    message = f"SMTP server refused the message: {code} {reason}"
    return kind(message, status=code, reason=reason, refused=True if opening else None)


def _close_all(connections: set[smtplib.SMTP], lock: threading.Lock) -> None:
    with lock:
        held = list(connections)
        connections.clear()
    for smtp in held:
        smtp.close()


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
        # One connection per sending thread, reused message after message (`RSET` between);
        # all of them listed, so that they are closed with the provider, not left to the GC.
        self._local = threading.local()
        self._connections: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()
        weakref.finalize(self, _close_all, self._connections, self._lock)

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _open(self) -> smtplib.SMTP:
        smtp = self._connect()
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        with self._lock:
            self._connections.add(smtp)
        return smtp

    def _ready(self) -> smtplib.SMTP:
        """This thread's open connection reset for a new message (`RSET`), else a new one.

        A connection the server closed meanwhile fails the `RSET`, before any of the message
        went over it: it is replaced, never taken for a send of unknown outcome.
        """
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if smtp is not None:
            try:
                smtp.rset()
                return smtp
            except (smtplib.SMTPException, OSError):
                self._drop()
        self._local.smtp = self._open()
        return self._local.smtp  # type: ignore[no-any-return]

    def _drop(self) -> None:
        smtp, self._local.smtp = getattr(self._local, "smtp", None), None
        if smtp is not None:
            with self._lock:
                self._connections.discard(smtp)
            smtp.close()

    def close(self) -> None:
        """Close every thread's connection (a later send opens a new one)."""
        _close_all(self._connections, self._lock)
        self._local = threading.local()

    def _deliver(self, smtp: smtplib.SMTP, prepared: PreparedEmail) -> None:
        try:
            smtp.send_message(
                to_mime(prepared), from_addr=prepared.from_address, to_addrs=[prepared.recipient]
            )
        except BaseException:
            self._drop()  # whatever state the server is in, the next message starts afresh
            raise

    def _opened(self) -> smtplib.SMTP:
        """A ready connection; a failure here sent nothing of the message (a refusal)."""
        try:
            return self._ready()
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc, opening=True) from exc
        except OSError as exc:  # refused, unresolved, timed out opening or greeting, TLS
            message = f"SMTP server unreachable: {exc}"
            raise TransientChannelError(message, reason=str(exc), refused=True) from exc

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Deliver to the server; the id is the Message-ID header."""
        smtp = self._opened()
        try:
            self._deliver(smtp, prepared)
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except OSError as exc:  # ssl.SSLError included
            # The message was (partly) on its way: a timeout mid-DATA may have been a send.
            message = f"SMTP server did not answer in time or dropped the connection: {exc}"
            raise TransientChannelError(message, reason=str(exc), refused=False) from exc
        return SendResult(self.name, prepared.header("Message-ID") or prepared.reference)
