"""How long a provider's answer asks us to wait: `Retry-After`, else `X-RateLimit-Reset`."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message

from channels.errors import rate_limit_reset_seconds, wait_asked

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


def test_a_reset_given_as_a_unix_time_is_the_seconds_until_it() -> None:
    assert rate_limit_reset_seconds(str(int(NOW.timestamp()) + 90), NOW) == 90
    assert rate_limit_reset_seconds(str(int(NOW.timestamp()) - 5), NOW) == 0  # already past


def test_a_reset_given_as_seconds_is_taken_as_they_are() -> None:
    assert rate_limit_reset_seconds("30", NOW) == 30
    assert rate_limit_reset_seconds(" 2.5 ", NOW) == 2.5


def test_a_reset_that_is_no_number_asks_nothing() -> None:
    for value in (None, "", "soon", "-3", "nan", "inf", "1e999"):
        assert rate_limit_reset_seconds(value, NOW) is None, value


def test_retry_after_wins_over_the_reset_and_either_is_found_whatever_its_case() -> None:
    both = {"retry-after": "7", "x-ratelimit-reset": str(int(NOW.timestamp()) + 600)}
    assert wait_asked(both, NOW) == 7
    assert wait_asked({"X-RATELIMIT-RESET": "40"}, NOW) == 40
    received = Message()  # what urllib and python_http_client hand over
    received["X-RateLimit-Reset"] = str(int(NOW.timestamp()) + 60)
    assert wait_asked(received, NOW) == 60
    assert wait_asked({}, NOW) is None and wait_asked(None, NOW) is None
