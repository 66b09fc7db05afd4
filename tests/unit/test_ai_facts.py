"""Novel facts: what a text states must come from the inputs or the approved text."""

from __future__ import annotations

import pytest

from hcs.ai.facts import novel_facts, sources
from hcs.ai.guardrails import run_guardrails
from hcs.ai.names import guess_language, names_in
from hcs.ai.slots import Slot

INPUTS = {
    "first_name": "Ann",
    "order_id": "A-1001",
    "delivery_date": "2026-11-27",
    "total": "49.90 EUR",
    "phone": "+44 20 7946 0958",
}
APPROVED = "Questions? Call 0800 123 4567 or visit shop.example. Acme Outdoor, 12 High Street."
KNOWN = sources([*map(str, INPUTS.values()), "Thank the customer.", APPROVED], ["shop.example"])
SLOT = Slot("intro", "Thank the customer.", tuple(INPUTS), 300, "Thank you for your order.")


def kinds(text: str, locale: str = "en") -> list[str]:
    return novel_facts(text, KNOWN, region="US", language=locale)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hi Ann, it arrives on 28 November.", "date"),
        ("Hi Ann, it arrives on November 29th.", "date"),
        ("Hi Ann, it arrives on Monday.", "date"),
        ("Hallo Ann, sie kommt am 30. November.", "date"),
        ("Bonjour Ann, elle arrive le 2 décembre.", "date"),
        ("Hola Ann, llega el 3 de diciembre.", "date"),
        ("Hi Ann, the courier comes at 10:30.", "time"),
        ("Bonjour Ann, le livreur passe à 14h30.", "time"),
        ("Hi Ann, it costs 59.90 EUR.", "amount"),
        ("Hallo Ann, der Versand kostet 4,95 €.", "amount"),
        ("Hi Ann, you saved 15%.", "percentage"),
        ("Hola Ann, ahorra un 20 por ciento.", "percentage"),
        ("Hi Ann, it ships within 3 business days.", "duration"),
        ("Hi Ann, it ships in two days.", "duration"),
        ("Hi Ann, your order A-1002 has shipped.", "number"),
        ("Hi Ann, call 020 7946 0123.", "phone number"),
        ("Hi Ann, call (415) 555-0132.", "phone number"),
        ("Bonjour Ann, appelez le 01 42 68 53 00.", "phone number"),
        ("Hi Ann, write to help@other.example.", "email address"),
        ("Hi Ann, see other.example/help.", "link"),
        ("Hi Ann, see 203.0.113.9/help.", "link"),
        ("Hi Ann, see other[.]example.", "link"),
        ("Hi Ann, it leaves our depot at SW1A 1AA.", "postal code"),
        ("Hi Ann, Peter will bring it.", "proper name"),
        ("Dear Mr Henderson, your order is here.", "proper name"),
        ("Hi Ann, it waits at our Paris depot.", "proper name"),
        ("Hallo Ann, Herr Schmidt bringt es.", "proper name"),
        # The 27 of the delivery date is a day, not a licence for an amount or a percentage.
        ("Hi Ann, your usage rose by 27% this year.", "percentage"),
        ("Hi Ann, the fee is £27.", "amount"),
        ("Hi Ann, our office in Bristol will help.", "proper name"),
        ("Hola Ann, nuestra tienda de Zaragoza lo tiene.", "proper name"),
    ],
)
def test_a_fact_no_source_has_is_named_by_its_kind(text: str, kind: str) -> None:
    found = kinds(text)
    assert kind in found
    assert text.split()[-1].strip(".") not in " ".join(found)  # the kind, never the value


@pytest.mark.parametrize(
    "text",
    [
        "Hi Ann, order A-1001 arrives on 27 November.",
        "Hi Ann, order A-1001 arrives on Friday, November 27th.",
        "Hallo Ann, Ihre Bestellung kommt am 27.11.2026.",
        "Bonjour Ann, votre commande arrive le 27 novembre.",
        "Hola Ann, su pedido llega el 27 de noviembre.",
        "Hi Ann, your total is €49,90.",
        "Hi Ann, we will call you on 020 7946 0958.",
        "Hi Ann, call us on 0800 123 4567 or see shop.example/orders.",
        "Hi Ann, thanks for shopping at Acme Outdoor.",
        "Hi Ann, your parcel left 12 High Street.",
        "Hi Ann, your order is on its way, thank you!",
    ],
)
def test_facts_from_the_inputs_and_the_approved_text_pass(text: str) -> None:
    assert kinds(text) == []


def test_the_check_runs_by_default_and_uses_the_slot_and_template_text() -> None:
    text = "Hi Ann, call us on 0800 123 4567."
    findings = run_guardrails(text, SLOT, INPUTS, category="service", approved=[APPROVED])
    assert next(f for f in findings if f.check == "novel_facts").passed
    findings = run_guardrails(text, SLOT, INPUTS, category="service")
    failed = next(f for f in findings if f.check == "novel_facts")
    assert not failed.passed and "phone number" in failed.detail and "0800" not in failed.detail


# Sentences with the names a person marks in them; the heuristic's precision is measured on them.
NAMED = [
    ("Hi Ann, Peter from our team will call you.", {"Peter"}),
    ("Hi Ann, our manager Sarah Collins will call.", {"Sarah"}),
    ("Please ask Mr Henderson at the counter.", {"Henderson"}),
    ("Your parcel waits at our London depot.", {"London"}),
    ("Pay with PayPal or call AnyDesk support.", {"PayPal", "AnyDesk"}),
    ("Your order with Zalando is confirmed.", {"Zalando"}),
    ("Hallo Ann, Herr Schmidt bringt das Paket nach Berlin.", {"Schmidt", "Berlin"}),
    ("Bonjour Ann, Madame Lefèvre vous appellera.", {"Lefèvre"}),
    ("Hola Ann, el señor García le llamará desde Madrid.", {"García", "Madrid"}),
    ("Thanks for your order, we hope you enjoy it.", set()),
    ("Liebe Ann, Ihre Bestellung ist unterwegs und die Lieferverzögerung tut uns leid.", set()),
    ("Bonjour Ann, votre commande arrive bientôt. Merci pour votre confiance.", set()),
    ("Hola Ann, su pedido llegará pronto. Gracias por confiar en nosotros.", set()),
    ("We hope the Walking Boots keep you comfortable. Our Customer Care team is here.", set()),
    ("Unsere Rückgabeseite erklärt, wie Erstattungen funktionieren.", set()),
    ("The Weather looks Good for your Walk.", set()),
    ("Merry Christmas, Ann! Feliz Navidad y Frohe Weihnachten.", set()),
]


def test_the_name_heuristic_is_precise_on_marked_sentences() -> None:
    found = marked = hits = 0
    for text, names in NAMED:
        flagged = {n.word for n in names_in(text, guess_language(text))} - {"Ann"}
        found += len(flagged)
        hits += len(flagged & names)
        marked += len(names)
    precision, recall = hits / found, hits / marked
    assert precision >= 0.9, precision
    assert recall >= 0.8, recall


@pytest.mark.parametrize(
    "text",
    [
        "Hi Ann, we'll confirm once it arrives.",  # "once" is eleven only in Spanish
        "Hi Ann, it arrives on the 27th.",  # a date's day, written as a plain number
        "Hi Ann, thanks for shopping in Reading.",  # a common word: not read as a town
    ],
)
def test_words_that_only_look_like_facts_pass(text: str) -> None:
    assert kinds(text) == [], text
