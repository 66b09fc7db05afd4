"""Personal data in generated text that the slot's inputs do not account for."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import phonenumbers

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "bob (at) example [dot] com": the usual ways of writing an address past a filter.
SPELLED_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.+-]+) ?[(\[{]at[)\]}] ?([\w-]+(?:(?: ?[(\[{]dot[)\]}] ?|\.)[\w-]+)+)",
    re.IGNORECASE,
)
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# Upper case, compact or in groups of four, as IBANs are written.
IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)"
    r"(?![A-Za-z0-9])"
)
_SUFFIX = (
    r"(?i:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl"
    r"|square|sq|terrace|close|crescent|highway|hwy|parkway|pkwy)\b\.?"
)
# Every repetition is bounded, so a long hostile text costs linear time, never quadratic.
ADDRESS = re.compile(
    "|".join(
        (
            # 221B Baker Street, 1600 Pennsylvania Ave
            r"\b\d{1,5}[A-Za-z]?,? (?:[A-Z][\w'.-]{0,30} ){1,4}" + _SUFFIX,
            # Hauptstraße 5, Lange Str. 7, Keizersgracht 123, Marktplatz 1
            r"\b[\w'-]{0,40}(?i:straße|strasse|str\.)\s?\d{1,5}[a-z]?\b",
            r"\b[\w'-]{1,40}(?i:weg|platz|allee|gasse|damm|straat|laan|gracht|plein|kade|gatan|vej)"
            r"\s+\d{1,5}[a-z]?\b",
            # 12 rue de la Paix, 5 bis avenue Foch
            r"\b\d{1,5}(?: ?(?:bis|ter))?,? (?i:rue|avenue|av\.|boulevard|bd|chemin|allée"
            r"|impasse|quai) [\w' -]{2,40}",
            # Calle Mayor 5, Via Roma, 10, Rua Augusta 100
            r"\b(?:[Cc]alle|[Aa]venida|[Pp]laza|[Pp]aseo|Via|Viale|Piazza|Corso|[Rr]ua)"
            r" [A-Z][\w' .-]{1,40}?,? \d{1,5}\b",
            r"\b(?i:p\.? ?o\.? box|postfach|boîte postale|apartado de correos) ?\d+",
            # UK postcodes, and a US state with its ZIP code
            r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b",
            r", [A-Z]{2} \d{5}(?:-\d{4})?\b",
        )
    )
)
_MIN_PHONE_DIGITS = 7
_NOT_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class Known:
    """The slot's input values, normalised for comparison with what the text contains."""

    emails: frozenset[str]
    digits: tuple[str, ...]
    alnum: tuple[str, ...]
    words: str


def _scalars(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list | tuple | set | frozenset) and not hasattr(value, "_fields"):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, date | datetime):
        yield value.isoformat()
    elif value is not None:
        yield str(value)


def normalised_words(text: str) -> str:
    """Lower-case letters and digits separated by single spaces, for address comparison."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def known_values(inputs: Mapping[str, Any]) -> Known:
    """Everything the inputs contain, in each normalised form a detector compares against."""
    values = list(_scalars(inputs))
    return Known(
        emails=frozenset(m.group().lower() for v in values for m in EMAIL.finditer(v)),
        digits=tuple(d for v in values if (d := re.sub(r"\D", "", v))),
        alnum=tuple(a for v in values if (a := re.sub(r"[^A-Za-z0-9]", "", v).upper())),
        words=" | ".join(normalised_words(v) for v in values),
    )


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char) * (2 if index % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _iban_valid(compact: str) -> bool:
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _addresses_in(text: str) -> Iterator[str]:
    for match in EMAIL.finditer(text):
        yield match.group().lower().rstrip(".")
    for match in SPELLED_EMAIL.finditer(text):
        domain = re.sub(r" ?[(\[{]dot[)\]}] ?", ".", match.group(2), flags=re.IGNORECASE)
        yield f"{match.group(1)}@{domain}".lower()


def _emails(text: str, known: Known) -> Iterator[str]:
    for address in _addresses_in(text):
        if address not in known.emails:
            yield f"an email address at {address.rpartition('@')[2]}"


def _cards(text: str, known: Known) -> Iterator[str]:
    for match in CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _luhn(digits) and not any(digits in k for k in known.digits):
            yield f"a payment card number ending {digits[-4:]}"


def _ibans(text: str, known: Known) -> Iterator[str]:
    for match in IBAN.finditer(text):
        compact = match.group().replace(" ", "")
        if _iban_valid(compact) and not any(compact in k for k in known.alnum):
            yield f"an IBAN ({compact[:2]}, ending {compact[-4:]})"


def _phones(text: str, known: Known, region: str) -> Iterator[str]:
    if len(_NOT_DIGIT.sub("", text)) < _MIN_PHONE_DIGITS:
        return
    for match in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.VALID):
        national = str(match.number.national_number)
        if not any(national in k for k in known.digits):
            yield f"a phone number ending {national[-2:]}"


def _addresses(text: str, known: Known) -> Iterator[str]:
    for match in ADDRESS.finditer(text):
        # The first words carry the number and the street; a pattern may run on past them.
        core = " ".join(normalised_words(match.group()).split()[:4])
        if core not in known.words:
            yield "a postal address"


def unexplained(text: str, inputs: Mapping[str, Any], *, region: str = "US") -> list[str]:
    """What the text contains that looks like personal data and is not among the inputs."""
    known = known_values(inputs)
    found = [
        *_emails(text, known),
        *_cards(text, known),
        *_ibans(text, known),
        *_phones(text, known, region),
        *_addresses(text, known),
    ]
    return list(dict.fromkeys(found))
