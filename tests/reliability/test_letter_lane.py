"""A letter that freezes while it is laid out holds up only the letter lane: texts go out."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from hcs.cli.seeding import load_demo
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.db import transaction
from hcs.worker.lanes import LANES
from hcs.worker.runtime import Lanes
from tests.reliability.workers import wait_for
from tests.support.flows import status
from tests.support.world import World

ADDRESS = ["Claire Martin", "12 rue des Lilas", "69003 Lyon", "France"]
LETTER = {
    "template": "payment-due",
    "channel": "letter",
    "to": {"address": ADDRESS},
    "data": {
        "customer_name": "Claire Martin",
        "invoice_number": "INV-2026-0457",
        "amount_due": {"amount": "1249.90", "currency": "EUR"},
        "due_date": "2026-12-15",
        "iban": "GB33 BUKB 2020 1555 5555 55",
    },
}
SMS = {
    "template": "password-reset",
    "channel": "sms",
    "to": {"phone": "+447400123456"},
    "data": {
        "reset_url": "https://www.northwind.example/r/x",
        "code": "482913",
        "expires_minutes": 30,
    },
}
FREEZE = 4.0


class Freezing:
    """The real letter outlet, taking `FREEZE` seconds to lay out each letter (a hostile one)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(FREEZE)
        return self.real.finish(*args, **kwargs)


def _send(world: World, body: dict[str, Any]) -> str:
    answer = world.as_("system").post("/messages", body)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def test_a_letter_freezing_in_its_layout_does_not_delay_an_sms_sent_meanwhile(
    world: World,
) -> None:
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        load_demo(session)
    providers = build_providers(services.settings)
    frozen = replace(
        providers, outlets={**providers.outlets, "letter": Freezing(providers.outlet("letter"))}
    )
    # What `hcs run` and `hcs worker` dispatch with when there is no broker.
    lanes = Lanes(services.settings, services.sessions, LANES, providers=frozen)
    letter = _send(world, LETTER)
    for worker in lanes.workers:
        worker.idle_seconds = 0.05
    lanes.start()
    try:
        time.sleep(0.5)  # the letter lane is now inside its frozen layout
        started = time.monotonic()
        sms = _send(world, SMS)
        lanes.wake()
        wait_for(lambda: status(world, sms)["status"] == "sent", 5, "the SMS")
        assert time.monotonic() - started < 2.0  # not behind the letter's 4 seconds
        assert status(world, letter)["status"] != "sent"
        wait_for(lambda: status(world, letter)["status"] == "sent", 15, "the letter")
    finally:
        lanes.stop()
