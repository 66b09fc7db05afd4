"""SMTP against aiosmtpd and SendGrid's real SDK against a loopback server."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels.core import Category
from channels.email import EmailChannel, EmailContent, EmailSettings, PreparedEmail
from channels.email.sendgrid import SendGridEmail
from channels.email.smtp import SmtpEmail
from channels.errors import ChannelError, InvalidRecipient, TransientChannelError
from tests.support.mail import (
    SMTP_PASSWORD,
    SMTP_USER,
    PlainSmtpSink,
    SmtpServer,
    run_plain_smtp,
)
from tests.support.server import free_port

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = EmailSettings(
    from_address="news@acme.example",
    from_name="Acme",
    unsubscribe_base_url="https://hcs.acme.example/u",
    unsubscribe_secret=b"k",
)


def prepared(category: Category = Category.MARKETING) -> PreparedEmail:
    return EmailChannel(SETTINGS, SmtpEmail("127.0.0.1")).prepare(
        EmailContent("Autumn offers", "<p>Hello</p>"),
        "ana@example.com",
        category,
        reference="msg-42",
        now=NOW,
        recipient_name="Ana",
    )


def test_smtp_sends_over_starttls_after_logging_in(smtp_server: SmtpServer) -> None:
    provider = SmtpEmail(
        smtp_server.host,
        smtp_server.port,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        ssl_context=smtp_server.client_context,
        timeout=5,
    )
    result = provider.send(prepared())
    assert result.message_id == "<msg-42@acme.example>"
    assert smtp_server.logins == [SMTP_USER]
    [envelope] = smtp_server.received
    assert envelope.mail_from == "news@acme.example"
    assert envelope.rcpt_tos == ["ana@example.com"]
    message = email.message_from_bytes(
        envelope.original_content or b"", policy=email.policy.default
    )
    assert message["Subject"] == "Autumn offers"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [a.addr_spec for a in message["To"].addresses] == ["ana@example.com"]


def test_smtp_over_implicit_tls(smtps_server: SmtpServer) -> None:
    provider = SmtpEmail(
        smtps_server.host,
        smtps_server.port,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        implicit_tls=True,
        ssl_context=smtps_server.client_context,
        timeout=5,
    )
    provider.send(prepared(Category.SERVICE))
    [envelope] = smtps_server.received
    assert envelope.rcpt_tos == ["ana@example.com"]


def test_smtp_with_a_wrong_password_is_a_permanent_error(smtp_server: SmtpServer) -> None:
    provider = SmtpEmail(
        smtp_server.host,
        smtp_server.port,
        username=SMTP_USER,
        password="wrong",
        ssl_context=smtp_server.client_context,
        timeout=5,
    )
    with pytest.raises(ChannelError) as caught:
        provider.send(prepared())
    assert not isinstance(caught.value, TransientChannelError)
    assert caught.value.status == 535
    assert smtp_server.received == []


def test_smtp_refuses_to_continue_when_the_certificate_is_not_trusted(
    smtp_server: SmtpServer,
) -> None:
    provider = SmtpEmail(
        smtp_server.host, smtp_server.port, username=SMTP_USER, password=SMTP_PASSWORD, timeout=5
    )
    with pytest.raises(TransientChannelError):
        provider.send(prepared())
    assert smtp_server.logins == [] and smtp_server.received == []


@pytest.mark.parametrize(
    "to, kind, code",
    [
        ("nobody@example.com", InvalidRecipient, 550),
        ("busy@example.com", TransientChannelError, 451),
    ],
)
def test_smtp_recipient_refusals_keep_the_servers_code_and_reason(
    smtp_server: SmtpServer, to: str, kind: type[ChannelError], code: int
) -> None:
    provider = SmtpEmail(
        smtp_server.host,
        smtp_server.port,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        ssl_context=smtp_server.client_context,
        timeout=5,
    )
    message = EmailChannel(SETTINGS, provider).prepare(
        EmailContent("Hi", "<p>x</p>"), to, Category.SERVICE, reference="r", now=NOW
    )
    with pytest.raises(kind) as caught:
        provider.send(message)
    assert caught.value.status == code
    assert "user" in (caught.value.reason or "") or "later" in (caught.value.reason or "")
    assert smtp_server.received == []


@pytest.fixture
def plain_sink() -> Iterator[PlainSmtpSink]:
    yield from run_plain_smtp()


def test_smtp_sends_message_after_message_over_one_connection(plain_sink: PlainSmtpSink) -> None:
    provider = SmtpEmail(plain_sink.host, plain_sink.port, starttls=False)
    for _ in range(3):
        provider.send(prepared())
    assert len(plain_sink.received) == 3 and len(plain_sink.connections) == 1


def test_a_connection_gone_dead_is_replaced_before_anything_of_the_next_message_is_sent(
    plain_sink: PlainSmtpSink,
) -> None:
    provider = SmtpEmail(plain_sink.host, plain_sink.port, starttls=False)
    provider.send(prepared())
    provider._local.smtp.sock.shutdown(socket.SHUT_RDWR)  # the connection died while idle
    provider.send(prepared())  # its RSET fails first: a new connection, not an unknown send
    assert len(plain_sink.received) == 2 and len(plain_sink.connections) == 2
    provider.close()


def test_each_sending_thread_has_a_connection_of_its_own(plain_sink: PlainSmtpSink) -> None:
    provider = SmtpEmail(plain_sink.host, plain_sink.port, starttls=False)
    threads = [threading.Thread(target=provider.send, args=(prepared(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(plain_sink.received) == 2 and len(plain_sink.connections) == 2


def test_an_unreachable_smtp_server_is_transient() -> None:
    with pytest.raises(TransientChannelError):
        SmtpEmail("127.0.0.1", free_port(), timeout=2).send(prepared())


def test_sendgrid_posts_the_exact_mail_send_request(loopback: HTTPServer) -> None:
    loopback.expect_oneshot_request(
        "/v3/mail/send", method="POST", headers={"Authorization": "Bearer SG.test-key"}
    ).respond_with_response(Response(status=202, headers={"X-Message-Id": "sg-abc123"}))
    provider = SendGridEmail("SG.test-key", host=loopback.url_for("").rstrip("/"), timeout=5)
    result = provider.send(prepared())
    loopback.check_assertions()
    assert (result.provider, result.message_id, result.status) == ("sendgrid", "sg-abc123", 202)
    [(request, _)] = loopback.log
    body = json.loads(request.get_data())
    unsubscribe = prepared().header("List-Unsubscribe")
    assert body == {
        "personalizations": [{"to": [{"email": "ana@example.com", "name": "Ana"}]}],
        "from": {"email": "news@acme.example", "name": "Acme"},
        "subject": "Autumn offers",
        "content": [
            {"type": "text/plain", "value": "Hello\n"},
            {"type": "text/html", "value": "<p>Hello</p>"},
        ],
        "custom_args": {"hcs_reference": "msg-42"},
        "headers": {
            "List-Unsubscribe": unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-HCS-Finishing": "3",  # the archived .eml names its finishing rules: so does this
        },
    }
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("status, transient", [(429, True), (503, True), (400, False)])
def test_sendgrid_errors_keep_the_status_and_reason(
    loopback: HTTPServer, status: int, transient: bool
) -> None:
    reason = json.dumps({"errors": [{"message": f"problem {status}"}]})
    loopback.expect_oneshot_request("/v3/mail/send").respond_with_data(reason, status=status)
    provider = SendGridEmail("SG.k", host=loopback.url_for("").rstrip("/"), timeout=5)
    with pytest.raises(ChannelError) as caught:
        provider.send(prepared(Category.SERVICE))
    assert isinstance(caught.value, TransientChannelError) is transient
    assert caught.value.status == status
    assert f"problem {status}" in (caught.value.reason or "")
    assert caught.value.__cause__ is not None


def test_a_slow_sendgrid_times_out_as_transient(loopback: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        import time

        time.sleep(0.8)
        return Response(status=202)

    loopback.expect_oneshot_request("/v3/mail/send").respond_with_handler(slow)
    provider = SendGridEmail("SG.k", host=loopback.url_for("").rstrip("/"), timeout=0.2)
    with pytest.raises(TransientChannelError):
        provider.send(prepared(Category.SERVICE))
