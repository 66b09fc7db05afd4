"""Outbound destinations HCS calls for its users: refused when they reach inside the network.

A URL is checked after DNS resolution, against every address its host resolves to: loopback,
private, link-local (cloud metadata), shared, multicast, reserved and unspecified ranges are
refused, IPv4 inside IPv6 included. The caller then connects to an address checked here (the
`addresses` kept), so a second resolution cannot swap in an inside one (DNS rebinding). Hosts in
`allow` (a development setting) may use plain http and any address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from templates_store.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(ValidationFailed):
    """A URL HCS would call for a user reaches a private, loopback or odd address (422)."""

    def __init__(self, reason: str, field: str = "url") -> None:
        super().__init__({field: [reason]})
        self.reason = reason


@dataclass(frozen=True)
class Destination:
    """A checked URL: its host and port, and the addresses it may be reached at."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None:
            return _is_public(inner)
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise DestinationRefused(f"the host {host!r} does not resolve") from None
    found = [str(info[4][0]).split("%")[0] for info in infos]
    return tuple(dict.fromkeys(found))


def _parts(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationRefused("not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("https", "http") or not host:
        raise DestinationRefused("an https:// URL with a host is needed")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("credentials in the URL are not accepted")
    return scheme, host, port or (443 if scheme == "https" else 80)


def check_destination(url: str, *, allow: Collection[str] = ()) -> Destination:
    """`url` checked for an outbound call; DestinationRefused (422, naming `url`) if it may not be.

    :param allow: hosts exempt from the checks (development receivers such as `127.0.0.1`)
    """
    scheme, host, port = _parts(url)
    allowed = host.lower() in {name.strip().lower().rstrip(".") for name in allow}
    if scheme != "https" and not allowed:
        raise DestinationRefused("only https:// URLs are accepted")
    addresses = _resolve(host, port)
    if not allowed:
        for text in addresses:
            if not _is_public(ipaddress.ip_address(text)):
                raise DestinationRefused(f"{host!r} resolves to {text}, which is not public")
    return Destination(url, scheme, host, port, addresses)
