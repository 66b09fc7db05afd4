"""Outbound destinations: checked after DNS, every address public, https unless allowlisted."""

from __future__ import annotations

import pytest

from hcs.errors import DestinationRefused
from hcs.infrastructure.destinations import check_destination


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
