"""Guardrail throughput on realistic slot texts, against a bare regex scan of the same texts."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from hcs.ai.guardrails import run_guardrails
from hcs.ai.slots import Slot
from tests.perf.timing import median_seconds

pytestmark = pytest.mark.perf

SLOT = Slot(
    name="intro",
    instruction="Thank the customer for their order and mention the product.",
    inputs=("first_name", "product", "phone", "delivery_date"),
    max_chars=300,
    fallback="Thank you for your order.",
)
INPUTS = {
    "first_name": "Ann",
    "product": "walking boots",
    "phone": "+44 20 7946 0958",
    "delivery_date": "2026-11-27",
}
TEXTS = (
    "Hi Ann, thank you for choosing our walking boots. They are on their way and should reach "
    "you on 2026-11-27, just in time for a weekend on the trails.",
    "Hi Ann, great news: your walking boots have left our warehouse. Our driver may call you on "
    "+44 20 7946 0958 shortly before delivery on 2026-11-27.",
    "Hello Ann! We hope the walking boots make every step lighter. Track your parcel any time at "
    "https://shop.example/orders and enjoy the outdoors.",
    "Hi Ann, as promised we will give you a full refund and a 20% discount on your next order.",
    "Hi Ann, your boots ship with bob.jones@example.org's order to 221B Baker Street.",
    "Liebe Ann, vielen Dank für Ihre Bestellung. Ihre Wanderschuhe sind unterwegs und kommen "
    "am 2026-11-27 bei Ihnen an.",
    "As an AI language model, I hope you enjoy your {{ product }}.",
    "Hi Ann, thanks for your order of walking boots. We are packing them with care and will let "
    "you know as soon as they are on the road.",
)
BARE = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\{\{|<[a-z/][^>]*>|refund|discount|password",
    re.IGNORECASE,
)


def test_guardrails_per_second_against_a_bare_regex_scan(
    bench_report: Callable[..., None],
) -> None:
    def guardrails() -> None:
        for text in TEXTS:
            run_guardrails(
                text,
                SLOT,
                INPUTS,
                category="marketing",
                link_domains=["shop.example"],
                locale="en-GB",
            )

    def bare() -> None:
        for text in TEXTS:
            BARE.findall(text)

    guardrails()
    pipeline_s = median_seconds(guardrails, repeat=9, number=50)
    raw_s = median_seconds(bare, repeat=9, number=50)
    bench_report(
        "AI guardrails (every check vs one regex)",
        pipeline_s,
        raw_s,
        unit="text",
        per=len(TEXTS),
    )
    # Fourteen checks, novel facts and names among them, cost a few ms per text; a person still
    # reads each text far slower than that. The floor keeps a campaign's queue in minutes.
    assert len(TEXTS) / pipeline_s > 100
