"""Outbound URLs the platform calls on someone's behalf never reach an internal address.

A destination taken from configuration (the chat webhook, the AI model's base URL, the
checkpoint witness, status callbacks) is checked when it is configured, by `check_destination`:
an http(s) URL whose host, once resolved, has no loopback, private, link-local (the cloud
metadata address 169.254.169.254), shared, multicast, reserved or unspecified address. The
resolver reads every spelling of a number (`0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`), so each
is judged by the address it names. It is checked again when a connection is opened
(`guarded_opener`): the connection goes to the very address that passed, so a name that resolves
to a public address at configuration and to a private one later (DNS rebinding) is refused.
Redirects are never followed, and proxies from the environment are not used (the check would
judge the proxy, not the destination). `HCS_ALLOWED_PRIVATE_DESTINATIONS` (addresses and networks,
comma-separated, e.g. `127.0.0.1,10.1.0.0/16`) lets development and tests reach those addresses.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from templates_store.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOW_VARIABLE = "HCS_ALLOWED_PRIVATE_DESTINATIONS"
SCHEMES = ("http", "https")


class UnsafeDestination(ValidationFailed):
    """An outbound URL that is malformed or leads to an internal address (422)."""


class RefusedConnection(UnsafeDestination, PermissionError):
    """A connection refused at the moment it was opened: its address is internal now."""


def parse_allow(text: str) -> tuple[str, ...]:
    """The allowlist setting's entries; a malformed one raises `ValueError` naming it."""
    entries = tuple(item.strip() for item in text.split(",") if item.strip())
    _networks(entries)
    return entries


def _networks(allow: Iterable[str]) -> list[Network]:
    try:
        return [ipaddress.ip_network(entry, strict=False) for entry in allow]
    except ValueError as exc:
        raise ValueError(f"{ALLOW_VARIABLE}: {exc}") from None


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


def _refused(address: IPAddress, networks: Sequence[Network]) -> bool:
    return is_internal(address) and not any(address in network for network in networks)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, numbers in any spelling included."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(item[4][0]).split("%")[0]) for item in found]


def _target(url: str, field: str) -> tuple[str, int]:
    """The URL's host and port, or `UnsafeDestination` when it is no plain http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeDestination({field: ["is not a valid URL"]}) from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise UnsafeDestination({field: ["must be an http(s) URL with a host"]})
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def checked_addresses(host: str, port: int, allow: Sequence[str], field: str) -> list[IPAddress]:
    """The addresses `host` resolves to, all of them outside internal ranges (or allowed)."""
    addresses, networks = resolve(host, port), _networks(allow)
    if not addresses:
        raise UnsafeDestination({field: [f"the host {host!r} does not resolve"]})
    refused = [str(address) for address in addresses if _refused(address, networks)]
    if refused:
        message = f"leads to an internal address ({', '.join(refused)}); see {ALLOW_VARIABLE}"
        raise UnsafeDestination({field: [message]})
    return addresses


def check_destination(url: str, *, allow: Sequence[str] = (), field: str = "url") -> None:
    """Refuse (`UnsafeDestination`, 422 naming `field`) a URL that may reach an internal host."""
    host, port = _target(url, field)
    checked_addresses(host, port, allow, field)


def _connector(allow: Sequence[str]) -> Any:
    """`socket.create_connection`, but only to an address checked at this very moment."""

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        try:
            [first, *_] = checked_addresses(host, port, allow, "url")
        except UnsafeDestination as exc:
            raise RefusedConnection(exc.errors) from None
        return socket.create_connection((str(first), port), *args, **kwargs)

    return connect


class _GuardedHTTP(urllib.request.HTTPHandler):
    def __init__(self, allow: Sequence[str]) -> None:
        super().__init__()
        self.allow = tuple(allow)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(host, **kwargs)
        connection._create_connection = _connector(self.allow)  # type: ignore[attr-defined]
        return connection


class _GuardedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, allow: Sequence[str]) -> None:
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


def guarded_opener(allow: Sequence[str] = ()) -> urllib.request.OpenerDirector:
    """A urllib opener that connects only to checked addresses, follows no redirect, no proxy."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _GuardedHTTP(allow), _GuardedHTTPS(allow), _NoRedirect
    )
