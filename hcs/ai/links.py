"""Links in text, however written: URLs, bare domains, IP addresses and defanged forms."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlsplit

_TLDS = (
    "com|net|org|info|biz|io|co|ai|app|dev|me|ly|gl|eu|uk|de|fr|es|it|nl|be|ch|at|se|dk|no|fi"
    "|pl|pt|ie|us|ca|au|nz|ru|cn|jp|in|br|xyz|online|site|shop|link|click|top|tk|cc|ws|su|to"
)
LINK = re.compile(
    r"(?<![\w@.+-])(?:[a-z][a-z0-9+.-]{0,30}://[^\s<>\"')\]]+"
    r"|(?:javascript|vbscript|data):\S+"
    r"|www\.[^\s<>\"')\]]+"
    r"|(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?:/[^\s<>\"')\]]*)?"
    rf"|(?:[a-z0-9-]+\.)+(?:{_TLDS})(?![\w@-])(?::\d{{1,5}})?(?:/[^\s<>\"')\]]*)?"
    # Any other lower-case dotted name is read as a host too: there are over a thousand TLDs.
    r"|(?-i:(?:[a-z0-9-]+\.)+[a-z]{2,24})(?![\w@-])(?:/[^\s<>\"')\]]*)?)",
    re.IGNORECASE,
)
# The ways a link is written past a filter: hxxp, example[.]com, example (dot) com, ://, 。
_DEFANGED: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\bh(?:xx|\*\*|tt|xt|tx)p(s?)\b", re.IGNORECASE), r"http\1"),
    (re.compile(r"\s?[\[({<]\s?(?:\.|dot|punkt|point|punto)\s?[\])}>]\s?", re.IGNORECASE), "."),
    (re.compile(r"\[:\]|\(:\)|\[://\]"), lambda m: m.group().strip("[]()")),
    (re.compile(r"(?<=\w) (?:dot|punkt|point|punto) (?=[a-z0-9-]{2,}\b)", re.IGNORECASE), "."),
    (re.compile(r"(?<=[a-z0-9]) \. (?=[a-z]{2,})", re.IGNORECASE), "."),
    (re.compile(r"[\u3002\uff61\u2024\u00b7\u2027\u2219]"), "."),
    (re.compile(r"(?<=\w)\.\.(?=\w)"), "."),
)
# A reply may refer to "the website" or "our app" without a link; these alone are no links.
_SCHEMES = ("http://", "https://")


def refanged(text: str) -> str:
    """The text with defanged links written out, so they are seen as links."""
    for pattern, replacement in _DEFANGED:
        text = pattern.sub(replacement, text)
    return text


def host_of(link: str) -> str:
    """The host a link points at, lower-case, without a trailing dot ('' when unparsable)."""
    target = link if "://" in link else "http://" + link
    try:
        return (urlsplit(target).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def is_ip(host: str) -> bool:
    """Whether a host is a literal IP address."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def links_in(text: str) -> Iterator[str]:
    """Every link in the text (refanged), trailing punctuation removed."""
    for match in LINK.finditer(refanged(text)):
        link = match.group().rstrip(".,;:!?")
        if re.fullmatch(r"\d+(?:\.\d+)+", link) and not is_ip(link):
            continue  # a version number or a decimal, not an address
        yield link


def allowed(host: str, domains: Sequence[str]) -> bool:
    """Whether a host is one of the domains or a subdomain of one."""
    return any(host == d or host.endswith("." + d) for d in domains)


def bad_links(text: str, domains: Sequence[str]) -> list[str]:
    """Each link that is not an http(s) link to an allowed domain, as a short description."""
    clean = [d.strip().lower().rstrip(".") for d in domains if d.strip()]
    found = []
    for link in links_in(text):
        host = host_of(link)
        scheme_ok = "://" not in link or link.lower().startswith(_SCHEMES)
        if is_ip(host):
            found.append("a link to an IP address")
        elif not (host and scheme_ok and allowed(host, clean)):
            found.append(f"a link to {host or link[:40]}")
    return list(dict.fromkeys(found))


def hosts_in(text: str) -> set[str]:
    """The hosts of every link in a text, to know which ones approved text already names."""
    return {h for link in links_in(text) if (h := host_of(link))}
