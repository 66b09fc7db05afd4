"""Honest failures: a timeout never fails over, Retry-After is obeyed, retries last a horizon."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from werkzeug import Request, Response

from hcs.dispatch.providers import build_providers
from hcs.dispatch.rounds import Outcome, claim, process
from hcs.infrastructure.config import parse_duration
from hcs.infrastructure.delivery import read_delivery
from hcs.messages.models import Message, OutboxEntry
from templates_store.orm import utcnow
from tests.support.flows import ORDER, published
from tests.support.mail import PlainSmtpSink, run_plain_smtp
from tests.support.server import free_port
from tests.support.stalling import unaccepting_port
from tests.support.world import World

SEND = "/v3/mail/send"


@pytest.fixture
def smtp_sink() -> Iterator[PlainSmtpSink]:
    yield from run_plain_smtp()


@pytest.fixture
def email_world(
    make_world: Callable[..., World], smtp_sink: PlainSmtpSink
) -> Callable[[str], World]:
    """A world sending email through SendGrid at `host`, with SMTP as the secondary."""

    def build(host: str, **options: str) -> World:
        world = make_world(
            delivery=read_delivery(
                {
                    "HCS_EMAIL_PROVIDER": "sendgrid",
                    "SENDGRID_API_KEY": "SG.test",
                    "HCS_SENDGRID_HOST": host.rstrip("/"),
                    "HCS_SENDGRID_TIMEOUT": "0.3",
                    "HCS_EMAIL_FALLBACK_PROVIDER": "smtp",
                    "HCS_SMTP_HOST": smtp_sink.host,
                    "HCS_SMTP_PORT": str(smtp_sink.port),
                    "HCS_SMTP_STARTTLS": "0",
                    "HCS_FAILOVER_AFTER": "2",
                    **options,
                }
            )
        )
        published(world)
        return world

    return build


def accept(world: World) -> str:
    answer = world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def dispatch_round(world: World, hours_later: float) -> list[Outcome]:
    """One round of the in-process dispatcher, as if `hours_later` hours had passed."""
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    with services.sessions.begin() as session:
        ids = claim(session, owner="test", now=utcnow() + timedelta(hours=hours_later))
    return [process(services.sessions, entry_id, providers) for entry_id in ids]


def entry(world: World, message_id: str) -> OutboxEntry:
    with world.app.extensions["hcs"].sessions() as session:
        return session.scalars(
            select(OutboxEntry).where(OutboxEntry.message_id == message_id)
        ).one()


def delay(world: World, message_id: str) -> float:
    return (entry(world, message_id).available_at - utcnow()).total_seconds()


def message(world: World, message_id: str) -> Message:
    with world.app.extensions["hcs"].sessions() as session:
        return session.get_one(Message, message_id)


def test_a_sendgrid_read_timeout_never_fails_over_to_smtp_nor_resends_blindly(
    email_world: Callable[..., World], smtp_sink: PlainSmtpSink, httpserver: HTTPServer
) -> None:
    calls: list[int] = []

    def slow(request: Request) -> Response:
        calls.append(1)
        time.sleep(0.6)  # past the client's 0.3 s: SendGrid may well have taken it
        return Response(status=202, headers={"X-Message-Id": "sg-1"})

    httpserver.expect_request(SEND, method="POST").respond_with_handler(slow)
    world = email_world(httpserver.url_for(""))
    message_id = accept(world)
    assert [o.status for o in dispatch_round(world, 0)] == ["unknown"]
    assert dispatch_round(world, 0.1) == []  # its reconciliation window: no second call
    assert smtp_sink.received == [] and len(calls) == 1  # never a second provider's copy
    waiting = entry(world, message_id)
    assert (waiting.attempts, waiting.refusals) == (1, 0)
    assert "timed out" in waiting.last_error and message(world, message_id).status == "unknown"


def test_a_refused_connection_counts_toward_failover_and_smtp_takes_over(
    email_world: Callable[..., World], smtp_sink: PlainSmtpSink
) -> None:
    world = email_world(f"http://127.0.0.1:{free_port()}")
    message_id = accept(world)
    outcomes = [o.status for hours in range(3) for o in dispatch_round(world, hours)]
    assert outcomes == ["queued", "queued", "sent"]
    assert message(world, message_id).provider == "smtp"
    assert [e.rcpt_tos for e in smtp_sink.received] == [["customer@example.com"]]


def test_a_connect_timeout_is_retried_and_fails_over_never_unknown(
    email_world: Callable[..., World], smtp_sink: PlainSmtpSink
) -> None:
    with unaccepting_port() as port:
        world = email_world(f"http://127.0.0.1:{port}")
        message_id = accept(world)
        outcomes = [o.status for hours in range(3) for o in dispatch_round(world, hours)]
    assert outcomes == ["queued", "queued", "sent"]  # a connection never opened sent nothing
    with world.app.extensions["hcs"].sessions() as session:
        kinds = [e.kind for e in session.get_one(Message, message_id).events]
    assert "unknown" not in kinds and message(world, message_id).provider == "smtp"
    assert len(smtp_sink.received) == 1


def test_a_definite_4xx_refusal_counts_toward_failover_when_there_is_a_secondary(
    email_world: Callable[..., World], smtp_sink: PlainSmtpSink, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND).respond_with_json({"errors": [{"message": "forbidden"}]}, 403)
    world = email_world(httpserver.url_for(""))
    message_id = accept(world)
    outcomes = [o.status for hours in range(3) for o in dispatch_round(world, hours)]
    assert outcomes == ["queued", "queued", "sent"]
    assert message(world, message_id).provider == "smtp" and len(smtp_sink.received) == 1


@pytest.mark.parametrize("status", [429, 503, 500])
def test_busy_and_server_errors_are_retried_at_the_primary_and_never_fail_over(
    email_world: Callable[..., World],
    smtp_sink: PlainSmtpSink,
    httpserver: HTTPServer,
    status: int,
) -> None:
    httpserver.expect_request(SEND).respond_with_data("busy", status=status)
    world = email_world(httpserver.url_for(""))
    accept(world)
    outcomes = [o.status for hours in range(4) for o in dispatch_round(world, hours)]
    assert outcomes == ["queued"] * 4 and smtp_sink.received == []


def test_retry_after_in_seconds_on_a_429_schedules_the_next_attempt_that_late(
    email_world: Callable[..., World], httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "20"}
    )
    world = email_world(httpserver.url_for(""))
    message_id = accept(world)
    assert [o.status for o in dispatch_round(world, 0)] == ["queued"]
    assert 19 <= delay(world, message_id) <= 21  # not the 1-2 s of the first backoff


def test_retry_after_as_an_http_date_on_a_503_is_obeyed(
    email_world: Callable[..., World], httpserver: HTTPServer
) -> None:
    later = format_datetime(utcnow() + timedelta(minutes=5), usegmt=True)
    httpserver.expect_request(SEND).respond_with_data(
        "maintenance", status=503, headers={"Retry-After": later}
    )
    world = email_world(httpserver.url_for(""))
    message_id = accept(world)
    dispatch_round(world, 0)
    assert 290 <= delay(world, message_id) <= 301


def test_x_ratelimit_reset_on_a_429_without_retry_after_is_obeyed(
    email_world: Callable[..., World], httpserver: HTTPServer
) -> None:
    """SendGrid's rate limit answers 429 with `X-RateLimit-Reset`, the Unix time the limit
    resets, and no `Retry-After`: the next attempt waits for that moment."""
    resets = int(utcnow().timestamp()) + 120
    httpserver.expect_request(SEND).respond_with_data(
        "rate limited", status=429, headers={"X-RateLimit-Reset": str(resets)}
    )
    world = email_world(httpserver.url_for(""))
    message_id = accept(world)
    assert [o.status for o in dispatch_round(world, 0)] == ["queued"]
    assert 115 <= delay(world, message_id) <= 121  # not the 1-2 s of the first backoff


def test_retries_go_on_past_six_attempts_and_fail_with_a_reason_past_the_horizon(
    email_world: Callable[..., World], smtp_sink: PlainSmtpSink, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND).respond_with_data("down", status=503)
    world = email_world(httpserver.url_for(""))
    message_id = accept(world)
    outcomes = [o.status for hours in range(10) for o in dispatch_round(world, hours)]
    assert outcomes == ["queued"] * 10  # no fixed number of attempts
    assert 300 <= delay(world, message_id) <= 601  # capped at ten minutes, jittered
    with world.app.extensions["hcs"].sessions.begin() as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == message_id)
            .values(retrying_since=utcnow() - timedelta(hours=25))
        )
    assert [o.status for o in dispatch_round(world, 11)] == ["failed"]
    failed = message(world, message_id)
    assert failed.status == "failed"
    assert "24h" in failed.reason and "503" in failed.reason
    assert dispatch_round(world, 12) == [] and smtp_sink.received == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("24h", timedelta(hours=24)), ("2d", timedelta(days=2))],
)
def test_the_retry_horizon_reads_minutes_hours_and_days(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "2w", "1.5h"])
def test_a_bad_retry_horizon_is_refused_naming_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="like 90m, 24h or 2d"):
        parse_duration(text)
