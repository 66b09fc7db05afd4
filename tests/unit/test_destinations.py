"""Outbound URLs never reach loopback, private, link-local or metadata addresses."""

from __future__ import annotations

import ipaddress
import urllib.error

import pytest
from pytest_httpserver import HTTPServer

from hcs.errors import HcsError, TemplateStoreError
from hcs.infrastructure import destinations
from hcs.infrastructure.destinations import (
    DestinationRefused,
    check_destination,
    guarded_opener,
    parse_allow,
)

INTERNAL = [
    "https://127.0.0.1:8080/hook",
    "https://localhost/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://0x7f000001/",  # hex
    "https://0x7f.0.0.1/",
    "https://2130706433/",  # decimal
    "https://0177.0.0.1/",  # octal
    "https://127.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[fd00:ec2::254]/",
    "https://10.0.0.8/",
    "https://192.168.1.1/",
    "https://172.16.0.1/",
    "https://100.64.0.1/",  # shared address space
    "https://0.0.0.0/",
    "https://224.0.0.1/",  # multicast
    "https://240.0.0.1/",  # reserved
    "https://user:pw@127.0.0.1/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_a_url_leading_to_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        check_destination(url, field="webhook_url")
    assert list(refused.value.errors) == ["webhook_url"]


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/", "file:///etc/passwd", "http:///x", "x"])
def test_anything_but_an_http_url_with_a_host_is_refused(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url)


def test_a_public_address_passes() -> None:
    check_destination("https://93.184.216.34/hook")
    check_destination("https://[2606:2800:220:1:248:1893:25c8:1946]/")
    check_destination("http://93.184.216.34/in", https_only=False)  # an operator's choice


def test_the_allowlist_lets_loopback_through_and_nothing_else() -> None:
    allow = parse_allow("127.0.0.1, 10.1.0.0/16")
    check_destination("http://127.0.0.1:9/x", allow=allow)
    check_destination("https://10.1.2.3/x", allow=allow)
    with pytest.raises(DestinationRefused):
        check_destination("https://169.254.169.254/", allow=allow)


def test_a_malformed_allowlist_entry_is_named() -> None:
    with pytest.raises(ValueError, match="HCS_ALLOWED_PRIVATE_DESTINATIONS"):
        parse_allow("127.0.0.1,10.0.0.0/33")


def test_the_refusal_belongs_to_the_one_error_tree() -> None:
    assert issubclass(DestinationRefused, TemplateStoreError | HcsError)


def test_a_connection_goes_only_to_an_address_checked_when_it_opens(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    public = ipaddress.ip_address("93.184.216.34")
    loopback = ipaddress.ip_address("127.0.0.1")
    answers = iter([[public], [loopback]])  # DNS rebinding: public when checked, loopback later
    monkeypatch.setattr(destinations, "resolve", lambda host, port: next(answers))
    url = f"http://rebind.example:{httpserver.port}/hook"
    check_destination(url, https_only=False)
    with pytest.raises(urllib.error.URLError) as refused:
        guarded_opener().open(url, timeout=5)
    assert isinstance(refused.value.reason, PermissionError)
    assert httpserver.log == []


def test_an_allowed_loopback_server_is_reached_and_its_redirect_not_followed(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/hook")}
    )
    opener = guarded_opener(["127.0.0.1"])
    with opener.open(httpserver.url_for("/hook"), timeout=5) as answer:
        assert answer.read() == b"ok"
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(httpserver.url_for("/moved"), timeout=5)
    assert redirected.value.code == 302
    redirected.value.close()
    assert [request.path for request, _ in httpserver.log] == ["/hook", "/moved"]


def test_without_the_allowlist_a_loopback_server_is_never_contacted(
    httpserver: HTTPServer,
) -> None:
    with pytest.raises(urllib.error.URLError):
        guarded_opener().open(httpserver.url_for("/hook"), timeout=5)
    assert httpserver.log == []


# --- as status callbacks use it: https only, hosts exempted by name ---


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",  # a name that resolves to loopback
        "https://127.1/hook",
        "https://2130706433/hook",  # 127.0.0.1 as one number
        "https://[::ffff:10.0.0.1]/hook",
        "https://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://224.0.0.1/hook",
        "https://no-such-host.invalid/hook",
        "https:///hook",
        "javascript:alert(1)",
        "https://example.com:99999/hook",
    ],
)
def test_an_inside_unresolvable_or_malformed_destination_is_refused(url: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        check_destination(url)
    assert list(refused.value.errors) == ["url"]


def test_an_allowlisted_development_host_may_use_http_and_loopback() -> None:
    checked = check_destination("http://127.0.0.1:8080/hook", allow=["127.0.0.1"])
    assert checked.addresses == ("127.0.0.1",) and checked.port == 8080


def test_the_allowlist_exempts_only_the_hosts_it_names() -> None:
    with pytest.raises(DestinationRefused):
        check_destination("http://localhost:8080/hook", allow=["127.0.0.1"])


def test_a_public_address_passes_and_is_kept_for_the_request() -> None:
    checked = check_destination("https://93.184.215.14/hook")
    assert checked.addresses == ("93.184.215.14",) and checked.host == "93.184.215.14"
