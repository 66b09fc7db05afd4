"""One status callback's HTTP request: to a checked address, never following a redirect.

The URL is checked again before each attempt (DNS may have changed since it was registered) and
the request goes to an address that check accepted, with the URL's own host in `Host` and in
TLS (SNI and certificate), so a second DNS answer cannot point the request inside the network.
The answer's body is never read: only its status counts.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import httpx

from hcs.errors import DestinationRefused
from hcs.infrastructure.destinations import Destination, check_destination


@dataclass(frozen=True)
class Answer:
    """How one attempt went: the endpoint's status, or what kept it from answering."""

    status_code: int | None
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        """A 2xx answer; anything else (a redirect included) is tried again later."""
        return self.status_code is not None and 200 <= self.status_code < 300


def _pinned(destination: Destination) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    url = httpx.URL(destination.url)
    pinned = url.copy_with(host=destination.addresses[0])
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    return pinned, {"host": url.netloc.decode("ascii")}, extensions


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow: Collection[str],
) -> Answer:
    """POST `body` to `url` once, after checking where it leads; the answer, never raising."""
    started = time.monotonic()

    def answer(status: int | None, error: str = "") -> Answer:
        return Answer(status, error, int((time.monotonic() - started) * 1000))

    try:
        destination = check_destination(url, allow=allow)
    except DestinationRefused as exc:
        return answer(None, f"destination refused: {exc.reason}")
    try:
        target, host, extensions = _pinned(destination)
    except (httpx.InvalidURL, ValueError):  # a URL urllib read and httpx does not
        return answer(None, "destination refused: not a URL httpx can send to")
    try:
        request = client.build_request(
            "POST", target, content=body, headers={**headers, **host}, extensions=extensions
        )
        response = client.send(request, stream=True, follow_redirects=False)
        response.close()
    except httpx.TimeoutException:
        return answer(None, "timed out")
    except httpx.HTTPError as exc:
        return answer(None, f"{type(exc).__name__}: could not reach the endpoint")
    if response.is_redirect:
        return answer(response.status_code, "redirects are not followed")
    return answer(response.status_code, "" if response.is_success else "not a 2xx answer")


def new_client(timeout: float) -> httpx.Client:
    """The client one round of deliveries shares: no proxies from the environment, no redirects."""
    return httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False)
