"""Personal data in generated text that the slot's inputs do not account for."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import islice
from typing import Any

import phonenumbers

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "bob (at) example [dot] com": the usual ways of writing an address past a filter.
SPELLED_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.+-]+) ?[(\[{]\s?(?:at|@)\s?[)\]}] ?"
    r"([\w-]+(?:(?: ?[(\[{]\s?(?:dot|\.)\s?[)\]}] ?|\s+dot\s+|\.)[\w-]+)+)"
    r"|(?<![\w.+-])([\w.+-]+) (?:at|arroba|chez) ([\w-]+(?: (?:dot|punto|point) [\w-]+)+)",
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
# A number written for another country is still a phone number: every text is read as if
# written in each of these regions too, besides the locale's own.
REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "IE", "AU", "CA", "IN")
_PHONE_VALUE = re.compile(r"[\d\s()+./-]{7,}")
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d[\d \-.()/]{5,22}\d(?![\w])")
# Each candidate is parsed for every region: a hostile text full of digits stays bounded.
_MAX_CANDIDATES = 40
_DATE = re.compile(r"\b\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d\b|\b(?:19|20)\d\d-\d{1,2}-\d{1,2}\b")


@dataclass(frozen=True)
class Known:
    """The slot's input values, normalised for comparison with what the text contains."""

    emails: frozenset[str]
    digits: tuple[str, ...]
    alnum: tuple[str, ...]
    words: str


def scalars(value: Any) -> Iterator[str]:
    """Every scalar inside a value (mappings, lists, dates), as text."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from scalars(item)
    elif isinstance(value, list | tuple | set | frozenset) and not hasattr(value, "_fields"):
        for item in value:
            yield from scalars(item)
    elif isinstance(value, date | datetime):
        yield value.isoformat()
    elif value is not None:
        yield str(value)


def approved_texts(parts: Mapping[str, Any]) -> list[str]:
    """Every text of a template version's approved parts (all channels and locales)."""
    return [text for text in scalars(parts) if text.strip()]


def normalised_words(text: str) -> str:
    """Lower-case letters and digits separated by single spaces, for address comparison."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def _whole(value: str) -> bool:
    # Only an input that is itself an address, a number or a code explains personal data: an
    # email or phone number inside a free-text input (a note, a message) is data to protect.
    value = value.strip()
    return bool(
        EMAIL.fullmatch(value)
        or _PHONE_VALUE.fullmatch(value)
        or re.fullmatch(r"[A-Za-z0-9 -]{4,40}", value)
    )


def known_values(inputs: Mapping[str, Any], approved: Sequence[str] = ()) -> Known:
    """What the inputs and approved texts contain, in each normalised form a detector uses."""
    values = [v for v in scalars(inputs) if _whole(v)] + list(approved)
    everything = list(scalars(inputs)) + list(approved)
    return Known(
        emails=frozenset(m.group().lower() for v in values for m in EMAIL.finditer(v)),
        digits=tuple(d for v in values if (d := re.sub(r"\D", "", v))),
        alnum=tuple(a for v in values if (a := re.sub(r"[^A-Za-z0-9]", "", v).upper())),
        words=" | ".join(normalised_words(v) for v in everything),
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


def addresses_in(text: str) -> Iterator[tuple[str, int, int]]:
    """Every email address, written out or spelled past a filter, with its span."""
    for match in EMAIL.finditer(text):
        yield match.group().lower().rstrip("."), match.start(), match.end()
    for match in SPELLED_EMAIL.finditer(text):
        local, domain = match.group(1) or match.group(3), match.group(2) or match.group(4)
        domain = re.sub(
            r" ?[(\[{]\s?(?:dot|\.)\s?[)\]}] ?|\s+(?:dot|punto|point)\s+", ".", domain, flags=re.I
        )
        yield f"{local}@{domain}".lower(), match.start(), match.end()


def _emails(text: str, known: Known) -> Iterator[str]:
    for address, _, _ in addresses_in(text):
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


@lru_cache(maxsize=256)
def phone_matches(text: str, region: str) -> tuple[tuple[int, int, str], ...]:
    """Every valid phone number of the locale's region or of a common one, with its span."""
    return tuple(_phone_matches(text, region))


def _phone_matches(text: str, region: str) -> Iterator[tuple[int, int, str]]:
    if len(_NOT_DIGIT.sub("", text)) < _MIN_PHONE_DIGITS:
        return
    regions = tuple(dict.fromkeys((region, *REGIONS)))
    for match in islice(_PHONE_CANDIDATE.finditer(text), _MAX_CANDIDATES):
        if not 7 <= len(_NOT_DIGIT.sub("", match.group())) <= 15 or _DATE.search(match.group()):
            continue
        for each in regions:
            leniency = phonenumbers.Leniency.VALID
            found = next(iter(phonenumbers.PhoneNumberMatcher(match.group(), each, leniency)), None)
            if found is not None:
                start = match.start() + found.start
                yield start, start + len(found.raw_string), str(found.number.national_number)
                break


def _phones(text: str, known: Known, region: str) -> Iterator[str]:
    for _, _, national in phone_matches(text, region):
        if not any(national in k for k in known.digits):
            yield f"a phone number ending {national[-2:]}"


def _addresses(text: str, known: Known) -> Iterator[str]:
    for match in ADDRESS.finditer(text):
        # The first words carry the number and the street; a pattern may run on past them.
        core = " ".join(normalised_words(match.group()).split()[:4])
        if core not in known.words:
            yield "a postal address"


def unexplained(
    text: str, inputs: Mapping[str, Any], *, region: str = "US", approved: Sequence[str] = ()
) -> list[str]:
    """What the text contains that looks like personal data and no input or approved text has."""
    known = known_values(inputs, approved)
    found = [
        *_emails(text, known),
        *_cards(text, known),
        *_ibans(text, known),
        *_phones(text, known, region),
        *_addresses(text, known),
    ]
    return list(dict.fromkeys(found))
