"""A provider that notes every call it passes on: how many messages each carried.

It wraps the real provider behind a channel's outlet, so a test sees the calls the dispatch made
(one `send_many` for a batch, or one `send` a message) and can act at the moment a call has been
made but not yet answered (`after`), as a second worker or an operator might.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from channels.core import SendResult
from hcs.channels.email import EmailOutlet
from hcs.dispatch.providers import Providers


class CountedProvider:
    """The real provider, with the number of messages each call carried noted in `calls`."""

    def __init__(
        self, real: Any, after: Callable[[Sequence[Any]], None] = lambda prepared: None
    ) -> None:
        self.real, self.after = real, after
        self.name: str = real.name
        self.batch_size: int = real.batch_size
        self.calls: list[int] = []

    def batch_key(self, prepared: Any) -> object | None:
        """The real provider's batch key."""
        key: object | None = self.real.batch_key(prepared)
        return key

    def send(self, prepared: Any) -> SendResult:
        """One message, one call."""
        result: SendResult = self.real.send(prepared)
        self.calls.append(1)
        self.after([prepared])
        return result

    def send_many(self, prepared: Sequence[Any]) -> list[SendResult]:
        """Several messages, one call."""
        results: list[SendResult] = self.real.send_many(prepared)
        self.calls.append(len(prepared))
        self.after(prepared)
        return results


def counting_email(
    providers: Providers, after: Callable[[Sequence[Any]], None] = lambda prepared: None
) -> tuple[Providers, CountedProvider]:
    """These providers with email's provider counted; the counter."""
    outlet = providers.outlet("email")
    assert isinstance(outlet, EmailOutlet)
    counted = CountedProvider(outlet.provider, after)
    email = replace(outlet, provider=counted)
    return replace(providers, outlets={**providers.outlets, "email": email}), counted
