"""Outbound destinations HCS calls for its users: refused when they reach inside the network.

A destination (a status-callback endpoint, the chat webhook, the AI model's base URL, the
checkpoint witness) is checked by `check_destination`: an http(s) URL without credentials whose
host, once resolved, has only public unicast addresses. Loopback, private, link-local (the cloud
metadata address 169.254.169.254), shared, multicast, reserved and unspecified ranges are
refused, IPv4 inside IPv6 included. The resolver reads every spelling of a number (`0x7f.1`,
`2130706433`, `[::ffff:127.0.0.1]`), so each is judged by the address it names.

The caller then connects only to an address checked at that moment: the `addresses` of the
returned `Destination` (status callbacks pin the request to them), or `guarded_opener`, whose
connections resolve and check again as they open. A name that resolves to a public address when
configured and to an inside one later (DNS rebinding) is thus refused. Redirects are never
followed, and proxies from the environment are not used (the check would judge the proxy).

`allow` (development settings: `HCS_WEBHOOK_ALLOWED_HOSTS` for status callbacks,
`HCS_ALLOWED_PRIVATE_DESTINATIONS` for the rest) names hosts that are exempt (plain http, any
address) and address networks (`10.1.0.0/16`) whose addresses are accepted.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import urllib.request
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from templates_store.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOW_VARIABLE = "HCS_ALLOWED_PRIVATE_DESTINATIONS"
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?")


class DestinationRefused(ValidationFailed):
    """A URL HCS would call for a user reaches a private, loopback or odd address (422)."""

    def __init__(self, reason: str, field: str = "url") -> None:
        super().__init__({field: [reason]})
        self.reason = reason


class RefusedConnection(DestinationRefused, PermissionError):
    """A connection refused at the moment it was opened: its address is inside now."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: its host and port, and the addresses it may be reached at."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def parse_allow(text: str) -> tuple[str, ...]:
    """The allowlist setting's entries (hosts or networks); a malformed one raises ValueError."""
    entries = tuple(item.strip() for item in text.split(",") if item.strip())
    for entry in entries:
        if _network(entry) is None and not _HOST_NAME.fullmatch(entry):
            raise ValueError(f"{ALLOW_VARIABLE}: {entry!r} is neither a host nor a network")
    return entries


def _network(entry: str) -> Network | None:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def is_internal(address: IPAddress) -> bool:
    """True for any address that is not plainly a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None and is_internal(embedded):
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, numbers in any spelling included."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return []
    unique = dict.fromkeys(str(item[4][0]).split("%")[0] for item in found)
    return [ipaddress.ip_address(text) for text in unique]


def _parts(url: str, field: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationRefused("not a valid URL", field) from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("https", "http") or not host:
        raise DestinationRefused("an https:// URL with a host is needed", field)
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("credentials in the URL are not accepted", field)
    return scheme, host, port or (443 if scheme == "https" else 80)


def _exempt(host: str, allow: Iterable[str]) -> bool:
    return host.lower() in {entry.strip().lower().rstrip(".") for entry in allow}


def checked_addresses(
    host: str, port: int, allow: Collection[str], field: str = "url"
) -> list[IPAddress]:
    """The addresses `host` resolves to, every one public (or allowed); else DestinationRefused."""
    addresses = resolve(host, port)
    if not addresses:
        raise DestinationRefused(f"the host {host!r} does not resolve", field)
    if _exempt(host, allow):
        return addresses
    networks = [net for net in map(_network, allow) if net is not None]
    for address in addresses:
        if is_internal(address) and not any(address in network for network in networks):
            raise DestinationRefused(f"{host!r} resolves to {address}, which is not public", field)
    return addresses


def check_destination(
    url: str, *, allow: Collection[str] = (), field: str = "url", https_only: bool = True
) -> Destination:
    """`url` checked for an outbound call; DestinationRefused (422, naming `field`) if not.

    :param allow: hosts exempt from the checks, and networks whose addresses are accepted
    :param https_only: plain http only for exempt hosts (status callbacks); operators' own
        destinations (the chat webhook, the model) may use http to a public address
    """
    scheme, host, port = _parts(url, field)
    if https_only and scheme != "https" and not _exempt(host, allow):
        raise DestinationRefused("only https:// URLs are accepted", field)
    addresses = checked_addresses(host, port, allow, field)
    return Destination(url, scheme, host, port, tuple(str(address) for address in addresses))


def _connector(allow: Collection[str]) -> Any:
    """`socket.create_connection`, but only to an address checked at this very moment."""

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        try:
            [first, *_] = checked_addresses(host, port, allow)
        except DestinationRefused as exc:
            raise RefusedConnection(exc.reason) from None
        return socket.create_connection((str(first), port), *args, **kwargs)

    return connect


class _GuardedHTTP(urllib.request.HTTPHandler):
    def __init__(self, allow: Collection[str]) -> None:
        super().__init__()
        self.allow = tuple(allow)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(host, **kwargs)
        connection._create_connection = _connector(self.allow)  # type: ignore[attr-defined]
        return connection


class _GuardedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, allow: Collection[str]) -> None:
        super().__init__()
        self.allow = tuple(allow)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req, context=self._context)  # type: ignore[attr-defined]

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPSConnection:
        connection = http.client.HTTPSConnection(host, **kwargs)
        connection._create_connection = _connector(self.allow)  # type: ignore[attr-defined]
        return connection


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is: it could lead anywhere, and resend the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def guarded_opener(allow: Collection[str] = ()) -> urllib.request.OpenerDirector:
    """A urllib opener that connects only to checked addresses, follows no redirect, no proxy."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _GuardedHTTP(allow), _GuardedHTTPS(allow), _NoRedirect
    )
