"""What a text does: requests, pressure, advice and promises, named policies in four languages."""

from __future__ import annotations

import pytest

from hcs.ai.guardrails import run_guardrails
from hcs.ai.slots import Slot

SLOT = Slot("intro", "Thank the customer for their order.", ("first_name",), 300, "Thank you.")


def failed(text: str, approved: tuple[str, ...] = ()) -> dict[str, str]:
    findings = run_guardrails(
        text, SLOT, {"first_name": "Ann"}, category="service", approved=approved
    )
    return {f.check: f.detail for f in findings if not f.passed}


@pytest.mark.parametrize(
    ("check", "policy", "text"),
    [
        ("requests", "credentials", "Ann, please reply with your password."),
        ("requests", "credentials", "Ann, tell us the secret word you use to sign in."),
        ("requests", "credentials", "Ann, bitte teilen Sie uns Ihr Passwort mit."),
        ("requests", "credentials", "Ann, merci de nous communiquer votre mot de passe."),
        ("requests", "credentials", "Ann, por favor envíenos su contraseña."),
        ("requests", "one_time_codes", "Ann, read us the code that arrived on your phone."),
        ("requests", "one_time_codes", "Ann, nennen Sie uns den Bestätigungscode aus der SMS."),
        ("requests", "one_time_codes", "Ann, indíquenos el PIN de su tarjeta."),
        ("requests", "card_details", "Ann, what are the three digits on the back of your card?"),
        ("requests", "card_details", "Ann, indiquez-nous le numéro de votre carte."),
        ("requests", "bank_details", "Ann, we need your sort code and account number."),
        ("requests", "remote_access", "Ann, please install AnyDesk so we can help."),
        ("requests", "remote_access", "Ann, let our engineer connect to your laptop."),
        ("requests", "money_transfer", "Ann, move your savings to a safe account."),
        ("requests", "money_transfer", "Ann, buy gift cards and send us the codes."),
        ("requests", "credentials", "Ann, send us your p a s s w o r d."),
        ("requests", "credentials", "Ann, send us your p4ssw0rd."),
        ("pressure", "threats", "Ann, your account will be suspended unless you reply."),
        ("pressure", "threats", "Ann, Ihr Konto wird gesperrt, wenn Sie nicht antworten."),
        ("pressure", "threats", "Ann, votre compte sera suspendu si vous ne répondez pas."),
        ("pressure", "deadlines", "Ann, act now, this expires today!"),
        ("pressure", "deadlines", "Ann, último aviso."),
        ("advice", "financial_advice", "Ann, you should invest in index funds."),
        ("advice", "financial_advice", "Ann, Sie sollten Ihr Geld in Aktien anlegen."),
        ("advice", "legal_advice", "Ann, you are legally entitled to sue the courier."),
        ("advice", "legal_advice", "Ann, vous avez le droit de poursuivre le transporteur."),
        ("advice", "medical_advice", "Ann, take 400 mg ibuprofen for the blisters."),
        ("advice", "medical_advice", "Ann, halve your dose of blood pressure medication."),
        ("commitments", "refunds", "Ann, we'll put the money back on your card."),
        ("commitments", "refunds", "Ann, the charge will be reversed."),
        ("commitments", "refunds", "Ann, you won't pay a penny."),
        ("commitments", "refunds", "Ann, wir erstatten Ihnen den vollen Betrag."),
        ("commitments", "refunds", "Ann, nous vous remboursons."),
        ("commitments", "refunds", "Ann, le devolveremos el dinero."),
        ("commitments", "compensation", "Ann, as a goodwill gesture we'll cover the shipping."),
        ("commitments", "discounts", "Ann, enjoy 20% off your next order."),
        ("commitments", "discounts", "Ann, hier ist ein Gutschein für Sie."),
        ("commitments", "guarantees", "Ann, we guarantee it arrives on time."),
        ("pressure", "threats", "Ann, renew by midnight or your membership is gone for good."),
        ("pressure", "threats", "Ann, ignore this and we'll have to disconnect you."),
        ("pressure", "threats", "Ann, si no renuevas hoy perderás tu plaza."),
        ("commitments", "discounts", "Ann, we're knocking a fifth off your next bill."),
        ("commitments", "compensation", "Ann, your next month is on us."),
        ("commitments", "refunds", "Ann, you will be repaid in full for the estimated bills."),
        ("requests", "one_time_codes", "Ann, read it out: the digits from the text we sent."),
        ("requests", "card_details", "Ann, what are the numbers on your Visa?"),
        ("advice", "financial_advice", "Ann, you'd be better off investing in shares."),
        ("advice", "medical_advice", "Ann, with your asthma, use your inhaler more often."),
    ],
)
def test_each_named_policy_is_caught_in_several_languages(
    check: str, policy: str, text: str
) -> None:
    found = failed(text)
    assert check in found, found
    assert policy in found[check]


@pytest.mark.parametrize(
    "text",
    [
        "Ann, our returns page explains how refunds work.",
        "Ann, we will never ask for your password or PIN.",
        "Ann, please never share your one-time codes with anyone.",
        "Ann, if someone asks for your bank details in our name, please ignore them.",
        "Ann, keep your password to yourself; we will never ask for it.",
        "Ann, we cannot offer a refund by message; the returns page has the details.",
        "Ann, your payment was received, thank you.",
        "Ann, the warranty details are on the product page.",
        "Ann, we don't give medical advice, but we hope the boots are comfortable.",
        "Ann, wir werden Sie niemals nach Ihrer PIN fragen.",
        "Ann, unsere Rückgabeseite erklärt, wie Erstattungen funktionieren.",
        "Ann, nous ne vous demanderons jamais votre mot de passe.",
        "Ann, notre page retours explique comment fonctionnent les remboursements.",
        "Ann, nunca le pediremos su contraseña.",
        "Ann, nuestra página de devoluciones explica cómo funcionan los reembolsos.",
        "Ann, download our app to follow your parcel.",
        "Ann, geben Sie Ihre PIN niemals weiter, auch nicht an uns.",
    ],
)
def test_harmless_mentions_of_sensitive_words_pass(text: str) -> None:
    assert failed(text) == {}


def test_what_the_approved_text_itself_asks_the_slot_may_repeat() -> None:
    text = "Ann, please pay the outstanding amount within 14 days."
    assert "requests" in failed(text)
    approved = ("Please pay the outstanding amount within 14 days of this notice.",)
    found = failed(text, approved)
    assert "requests" not in found and "pressure" not in found and "novel_facts" not in found


def test_an_admin_may_still_forbid_mentioning_a_topic() -> None:
    findings = run_guardrails(
        "Ann, our returns page explains how refunds work.",
        SLOT,
        {"first_name": "Ann"},
        category="service",
        forbidden=["refunds"],
    )
    assert [f.check for f in findings if not f.passed] == ["forbidden_topics"]
