"""The demo set reads as a person would write it: times, salutations, the letter's own date."""

from __future__ import annotations

from hcs.cli.seeding import load_demo
from hcs.infrastructure.db import transaction
from tests.support.world import World

REMINDER = {
    "first_name": "Sam",
    "appointment_at": "2026-12-03T14:30:00+00:00",
    "store_name": "Bristol Harbourside",
}
PAYMENT = {
    "customer_name": "Claire Martin",
    "invoice_number": "INV-2026-0457",
    "amount_due": {"amount": "1249.90", "currency": "EUR"},
    "due_date": "2026-12-15",
    "iban": "GB33 BUKB 2020 1555 5555 55",
}


def test_the_demo_chat_reminder_says_the_time_as_people_do(world: World) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        load_demo(session)
    body = (
        world.as_("system")
        .post(
            "/templates/appointment-reminder/preview",
            json={"channel": "chat", "locale": "en", "data": REMINDER},
        )
        .get_json()["output"]["body"]
    )
    assert "Thursday, December 3, 2026 at 2:30\u202fPM." in body
    assert "Coordinated Universal Time" not in body and "2:30:00" not in body


def test_the_demo_letter_greets_by_name_and_dates_itself_with_its_own_date(world: World) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        load_demo(session)
    system = world.as_("system")
    for locale, greeting, dated in (
        ("fr", "Bonjour Claire Martin,", "1 décembre 2026"),
        ("en", "Dear Claire Martin,", "December 1, 2026"),
    ):
        data = PAYMENT | {"letter_date": "2026-12-01"}
        answer = system.post(
            "/templates/payment-due/preview",
            json={"channel": "letter", "locale": locale, "data": data},
        ).get_json()
        html = answer["output"]["html"]
        assert greeting in html and "Madame, Monsieur" not in html
        assert f'<p class="date">{dated}</p>' in html
        undated = system.post(
            "/templates/payment-due/preview",
            json={"channel": "letter", "locale": locale, "data": PAYMENT},
        ).get_json()["output"]["html"]
        assert 'class="date"' not in undated  # never the due date in its place
