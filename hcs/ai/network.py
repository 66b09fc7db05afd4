"""The AI SDK's connections go only to addresses checked when each connection opens.

`HCS_AI_BASE_URL` is checked when the provider is built (`check_destination`); the SDK's own
client would then resolve the name again for every connection, so a name that later resolves
to an internal address (DNS rebinding) would reach it. This client's transport resolves, checks
and connects to the checked address itself, follows no redirect and reads no proxy variable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import httpcore2
import httpx2
import openai

from hcs.infrastructure.destinations import DestinationRefused, checked_addresses


class _GuardedBackend(httpcore2.SyncBackend):
    def __init__(self, allow: Sequence[str]) -> None:
        super().__init__()
        self.allow = tuple(allow)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        try:
            [first, *_] = checked_addresses(host, port, self.allow, "HCS_AI_BASE_URL")
        except DestinationRefused as exc:  # the SDK reports it as an unreachable endpoint
            raise httpcore2.ConnectError(str(exc)) from None
        return super().connect_tcp(str(first), port, timeout, local_address, socket_options)


class _GuardedTransport(httpx2.HTTPTransport):
    def __init__(self, allow: Sequence[str]) -> None:
        super().__init__(trust_env=False)
        # httpx offers no public way to choose the network backend: the pool is rebuilt with it.
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(allow),
        )


def guarded_client(allow: Sequence[str]) -> httpx2.Client:
    """An SDK client whose connections reach only checked addresses (and never redirect)."""
    return openai.DefaultHttpxClient(
        transport=_GuardedTransport(allow), follow_redirects=False, trust_env=False
    )
