"""Topics an admin may forbid AI text to mention at all: named, with patterns per language."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class Topic:
    """A forbidden topic: a name, what the prompt tells the model, and patterns per language."""

    name: str
    description: str
    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def regex(self) -> re.Pattern[str]:
        """Every language's patterns as one case-insensitive expression."""
        return _compiled(self.name)


# Patterns are matched against NFKC-normalised, case-folded text, on word boundaries, so a new
# language is one more entry per topic. They are broad on purpose: a forbidden topic is one
# the category must not touch at all.
TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(
            "refunds",
            "refunds or reimbursements",
            {
                "en": (r"refund\w*", r"reimburs\w*", r"money back", r"pay (?:you )?back"),
                "de": (r"rückerstatt\w*", r"erstatt\w*", r"geld zurück"),
                "fr": (r"rembours\w*",),
                "es": (r"reembols\w*", r"devoluci[oó]n del dinero"),
                "nl": (r"terugbetal\w*", r"restitutie"),
                "it": (r"rimbors\w*", r"restituzione del denaro"),
            },
        ),
        Topic(
            "compensation",
            "compensation, credits, waived fees or goodwill gestures",
            {
                "en": (
                    r"compensat\w*",
                    r"goodwill",
                    r"waiv\w*",
                    r"credit (?:to )?your account",
                    r"account credit",
                    r"make it up to you",
                    r"free of charge",
                    r"on the house",
                ),
                "de": (r"entschädig\w*", r"kulanz\w*", r"gutschrift\w*", r"kostenlos\w*"),
                "fr": (r"indemni\w*", r"dédommag\w*", r"geste commercial", r"gratuit\w*"),
                "es": (r"compensaci[oó]n\w*", r"indemniza\w*", r"gratis"),
                "nl": (r"compensatie", r"schadevergoeding", r"gratis"),
                "it": (r"risarciment\w*", r"indennizz\w*", r"gratuit\w*"),
            },
        ),
        Topic(
            "discounts",
            "discounts, vouchers, coupons or special prices",
            {
                "en": (
                    r"discount\w*",
                    r"vouchers?",
                    r"coupons?",
                    r"promo(?:tion(?:al)?)? codes?",
                    r"\d+ ?% off",
                    r"special (?:price|offer)s?",
                    r"free (?:shipping|delivery|upgrades?|gifts?|trials?)",
                ),
                "de": (r"rabatt\w*", r"gutschein\w*", r"preisnachlass\w*"),
                "fr": (r"réduction\w*", r"remises?", r"bons? de réduction", r"code promo"),
                "es": (r"descuentos?", r"cupones?", r"cup[oó]n"),
                "nl": (r"korting\w*", r"waardebon\w*"),
                "it": (r"scont\w*", r"buoni? sconto", r"coupon"),
            },
        ),
        Topic(
            "guarantees",
            "guarantees, warranties or promises about outcomes",
            {
                "en": (
                    r"guarant\w*",
                    r"warrant(?:y|ies)",
                    r"we promise",
                    r"promised?",
                    r"100 ?%",
                    r"we assure",
                ),
                "de": (r"garant\w*", r"versprech\w*", r"zusicher\w*"),
                "fr": (r"garanti\w*", r"promett\w*", r"promesse"),
                "es": (r"garant[ií]\w*", r"prometemos", r"promesa"),
                "nl": (r"garantie\w*", r"beloven", r"beloofd"),
                "it": (r"garanzi\w*", r"garantiamo", r"promettiamo", r"promessa"),
            },
        ),
        Topic(
            "payment_changes",
            "changes to payment methods or bank details, or where to send money",
            {
                "en": (
                    r"bank (?:details|account|transfer)s?",
                    r"(?:new|updated|changed?) (?:payment|billing) (?:details|method|information)",
                    r"update your (?:payment|billing|card)",
                    r"wire (?:transfer|the money)",
                    r"sort code",
                    r"routing number",
                    r"iban",
                    r"pay (?:to|into) (?:this|the following|a new|our new)",
                ),
                "de": (r"bankverbindung\w*", r"kontodaten", r"überweis\w*", r"kontonummer"),
                "fr": (r"coordonnées bancaires", r"virement\w*", r"\brib\b"),
                "es": (r"datos bancarios", r"transferencia bancaria", r"cuenta bancaria"),
                "nl": (r"bankgegevens", r"rekeningnummer", r"overschrijving"),
                "it": (r"coordinate bancarie", r"bonifico\w*", r"conto corrente"),
            },
        ),
        Topic(
            "account_access",
            "passwords, codes, log-in details or account access",
            {
                "en": (
                    r"pass(?:word|code|phrase)s?",
                    r"\bpin\b",
                    r"one[- ]time (?:code|password)",
                    r"verification code",
                    r"log[- ]?in (?:details|credentials)",
                    r"credentials",
                    r"verify your (?:account|identity)",
                    r"security questions?",
                    r"reset your",
                ),
                "de": (r"passwort\w*", r"kennwort\w*", r"zugangsdaten", r"anmeldedaten"),
                "fr": (r"mots? de passe", r"identifiants?", r"code de vérification"),
                "es": (r"contraseñas?", r"credenciales", r"c[oó]digo de verificaci[oó]n"),
                "nl": (r"wachtwoord\w*", r"inloggegevens", r"verificatiecode"),
                "it": (r"password", r"credenziali", r"codice di verifica"),
            },
        ),
        Topic(
            "legal_advice",
            "legal advice, rights or liability",
            {
                "en": (
                    r"legal(?:ly)? (?:advice|entitled|obliged|required|rights?)",
                    r"your (?:legal |statutory )?rights",
                    r"lawyers?",
                    r"attorneys?",
                    r"solicitors?",
                    r"lawsuits?",
                    r"\bsue\b",
                    r"liab(?:le|ility)",
                ),
                "de": (r"rechtsberatung", r"anwalt\w*", r"rechtsanspruch\w*", r"haftung"),
                "fr": (r"conseil juridique", r"avocats?", r"responsabilité"),
                "es": (r"asesor[ií]a legal", r"abogados?", r"responsabilidad legal"),
                "nl": (r"juridisch advies", r"advocaat", r"aansprakelijk\w*"),
                "it": (r"consulenza legale", r"avvocat\w*", r"responsabilità legale"),
            },
        ),
        Topic(
            "medical_advice",
            "medical advice, diagnoses or medication",
            {
                "en": (
                    r"diagnos\w*",
                    r"prescri\w*",
                    r"dosage",
                    r"medicat\w*",
                    r"medicine",
                    r"symptoms?",
                    r"treatment",
                ),
                "de": (r"diagnose\w*", r"medikament\w*", r"dosierung", r"behandlung"),
                "fr": (r"diagnostic", r"médicament\w*", r"ordonnance", r"posologie"),
                "es": (r"diagn[oó]stico", r"medicamentos?", r"receta médica", r"dosis"),
                "nl": (r"diagnose", r"medicijn\w*", r"dosering"),
                "it": (r"diagnosi", r"farmac[oi]", r"dosaggio", r"ricetta medica"),
            },
        ),
        Topic(
            "financial_advice",
            "investment, tax or financial advice",
            {
                "en": (
                    r"financial advice",
                    r"invest(?:s|ed|ing|ments?|ors?)?",
                    r"(?:buy|sell) (?:stocks?|shares|bonds|crypto\w*)",
                    r"returns? on (?:your )?(?:investment|savings|capital)",
                    r"tax advice",
                ),
                "de": (r"anlageberatung", r"finanzberatung", r"investition\w*", r"steuerberatung"),
                "fr": (r"conseil financier", r"investir", r"investissements?", r"placements?"),
                "es": (r"asesoramiento financiero", r"inversi[oó]n\w*", r"invertir"),
                "nl": (r"financieel advies", r"beleggen", r"investering\w*", r"investeren"),
                "it": (r"consulenza finanziaria", r"investiment\w*", r"investire"),
            },
        ),
    )
}

ALL_TOPICS: tuple[str, ...] = tuple(TOPICS)
# Mentioning a topic is allowed by default: "our returns page explains how refunds work" is
# fine, and promises, requests and advice have their own named policies (hcs.ai.conduct). An
# admin may still forbid any mention of a topic in a category through its policy.
DEFAULT_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "transactional": (),
    "service": (),
    "marketing": (),
    "sensitive": ALL_TOPICS,
}


@cache
def _compiled(name: str) -> re.Pattern[str]:
    alternatives = [p for patterns in TOPICS[name].patterns.values() for p in patterns]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def forbidden_for(category: str) -> tuple[str, ...]:
    """The topics a category forbids even to mention (all of them for an unknown category)."""
    return DEFAULT_FORBIDDEN.get(category, ALL_TOPICS)


def topics_named(names: Sequence[str]) -> list[Topic]:
    """The topics by name; an unknown name raises KeyError so a typo cannot disable a check."""
    return [TOPICS[name] for name in names]
