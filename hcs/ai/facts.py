"""Novel facts: what generated text states that none of its approved sources contains.

Sources are the slot's inputs, its approved instruction and fallback, the template's approved
text and the link allowlist. Every number, amount, percentage, duration, date, time, link,
email address, phone number, postal code and proper name in the output must come from them.
Findings name the kind of fact, never its value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from hcs.ai.dates import dates_in, known_moments, times_in
from hcs.ai.links import allowed, host_of, hosts_in, links_in, refanged
from hcs.ai.names import guess_language, names_in
from hcs.ai.personal_data import EMAIL, addresses_in, phone_matches, scalars
from hcs.ai.unicode import skeleton

NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,' ]\d{3}(?!\d))*(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+")
_CURRENCY = r"[$€£¥₹₽]|\b(?:eur|euros?|usd|gbp|chf|dollars?|pounds?|francs?|pesos?|cents?|p)\b"
_PERCENT = r"\s?(?:%|‰|percent\b|per ?cent\b|pour ?cent\b|prozent\b|por ?ciento\b)"
_UNITS = (
    r"\s?(?:business |working |calendar )?(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|"
    r"weeks?|months?|years?|nights?|sekunden|minuten|stunden|std|tagen?|wochen|monaten?|jahren?|"
    r"werktagen?|secondes?|heures?|jours?|semaines?|mois|ans|années?|ouvrés|segundos?|minutos?|"
    r"horas?|d[ií]as?|semanas?|meses|mes|años?|hábiles)\b"
)
POSTAL = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b|\b[A-Z]\d[A-Z] ?\d[A-Z]\d\b|\b\d{4} ?[A-Z]{2}\b"
    r"|\b(?:[A-Z]{2}) \d{5}(?:-\d{4})?\b|\b(?:[A-Z]{1,2}-)?\d{4,5}(?= [A-ZÀ-Þ][a-zà-ÿ]{2,})"
)
_PHONE_LIKE = re.compile(r"\+?[\d\s()./-]{7,}")
CODE = re.compile(r"(?<![\w-])[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[ -][A-Za-z]{0,4}\d[A-Za-z0-9]*){0,8}")
NUMBER_WORDS = {
    w: n
    for n, words in {
        2: "two deux zwei dos",
        3: "three trois drei tres",
        4: "four quatre vier cuatro",
        5: "five cinq fünf cinco",
        6: "six sechs seis",
        7: "seven sept sieben siete",
        8: "eight huit acht ocho",
        9: "nine neun nueve",
        10: "ten dix zehn diez",
        11: "eleven onze elf once",
        12: "twelve douze zwölf doce",
        14: "fourteen quatorze vierzehn catorce",
        15: "fifteen quinze fünfzehn quince",
        20: "twenty vingt zwanzig veinte",
        24: "twenty-four vingt-quatre vierundzwanzig veinticuatro",
        30: "thirty trente dreißig treinta",
        48: "forty-eight",
        50: "fifty cinquante fünfzig cincuenta",
        100: "hundred cent hundert cien",
        1000: "thousand mille tausend mil",
    }.items()
    for w in words.split()
}
# Number words that are everyday words elsewhere ("once" in English, "elf" in English, "cent" as
# a coin): a number only in their own language.
_NUMBER_WORD_LANGUAGE = {"once": "es", "elf": "de", "cent": "fr", "sept": "fr", "mil": "es"}
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b")
_DIGITS = {
    chr(c): str(unicodedata.digit(chr(c))) for c in range(0x660, 0x1FBFA) if chr(c).isdecimal()
}


@dataclass(frozen=True)
class Sources:
    """Everything approved text and inputs state, normalised for comparison."""

    numbers: frozenset[str]
    # Numbers only a date or time states (the 15 of 2026-12-15): a plain number may be one, an
    # amount, a percentage or a duration may not.
    moment_numbers: frozenset[str]
    digits: str
    compact: str
    words: frozenset[str]
    emails: frozenset[str]
    hosts: frozenset[str]
    dates: frozenset[tuple[int, int]]
    weekdays: frozenset[int]
    times: frozenset[tuple[int, int]]


def plain(text: str) -> str:
    """Look-alikes folded, invisible characters gone, every digit ASCII, links refanged."""
    return refanged("".join(_DIGITS.get(c, c) for c in skeleton(text)))


def _phone_like(text: str) -> bool:
    value = text.strip()
    return bool(_PHONE_LIKE.fullmatch(value)) and not any(True for _ in dates_in(value))


def numeric_values(token: str) -> set[str]:
    """Each value a written number may stand for ("1,500" is 1500 or 1.5)."""
    token = token.replace("'", "").replace(" ", "")
    readings = {token.replace(",", ""), token.replace(".", "").replace(",", "."), token}
    if token.count(",") == 1 and token.count(".") == 0:
        readings.add(token.replace(",", "."))
    values = set()
    for reading in readings:
        try:
            value = Decimal(reading)
        except InvalidOperation:
            continue
        values.add(format(value.normalize(), "f"))
    return values


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def sources(texts: Iterable[str], domains: Sequence[str] = ()) -> Sources:
    """The normalised facts of every source text."""
    return _sources(tuple(texts), tuple(domains))


@lru_cache(maxsize=256)
def _sources(raw: tuple[str, ...], domains: tuple[str, ...]) -> Sources:
    texts = [plain(t) for t in raw if t]
    joined = "\n".join(texts)
    # A phone number's groups are not numbers of their own ("20" in "+44 20 7946 0958").
    counted = "\n".join(t for t in texts if not _phone_like(t))
    every = _numbers_of(counted)
    numbers = _numbers_of(_without_moments(counted))
    numbers |= {str(NUMBER_WORDS[w]) for w in _NUMBER_WORD.findall(joined.casefold())}
    pairs, weekdays, times = known_moments(joined)
    return Sources(
        numbers=frozenset(numbers),
        moment_numbers=frozenset(every - numbers),
        digits=" ".join(re.sub(r"\D", "", t) for t in texts) + " " + joined,
        compact=" ".join(_compact(t) for t in texts),
        words=frozenset(w.casefold() for w in re.findall(r"[^\W\d_]+", joined)),
        emails=frozenset(m.group().casefold() for m in EMAIL.finditer(joined)),
        hosts=frozenset({*hosts_in(joined), *(d.strip().casefold() for d in domains)}),
        dates=frozenset(pairs),
        weekdays=frozenset(weekdays),
        times=frozenset(times),
    )


def _numbers_of(text: str) -> set[str]:
    return {v for m in NUMBER.finditer(text) for v in numeric_values(m.group())}


def _without_moments(text: str) -> str:
    """The text with its dates and times blanked out (same length, so nothing else moves)."""
    chars = list(text)
    for moment in [*dates_in(text), *times_in(text)]:
        chars[moment.start : moment.end] = " " * (moment.end - moment.start)
    return "".join(chars)


def source_texts(inputs: Mapping[str, Any], approved: Sequence[str]) -> list[str]:
    """Every input value and every approved text, as strings."""
    return [*scalars(inputs), *approved]


def _number_kind(text: str, start: int, end: int) -> str:
    after, before = text[end : end + 24].casefold(), text[max(0, start - 6) : start].casefold()
    if re.match(_PERCENT, after):
        return "percentage"
    if re.search(_CURRENCY + r"\s?$", before) or re.match(r"\s?(?:" + _CURRENCY + ")", after):
        return "amount"
    if re.match(_UNITS, after):
        return "duration"
    return "number"


class _Spans:
    def __init__(self) -> None:
        self.taken: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in self.taken)

    def take(self, start: int, end: int) -> None:
        self.taken.append((start, end))


def _codes(text: str, known: Sources, spans: _Spans) -> None:
    # An IBAN, a card or an order number from the inputs, however grouped, is one known fact.
    for match in CODE.finditer(text):
        compact = _compact(match.group())
        if len(compact) >= 6 and compact in known.compact:
            spans.take(*match.span())


def _contacts(text: str, known: Sources, spans: _Spans, region: str) -> Iterator[str]:
    for address, start, end in addresses_in(text):
        spans.take(start, end)
        if address not in known.emails:
            yield "email address"
    for match in re.finditer(
        "|".join(f"(?:{re.escape(link)})" for link in links_in(text)) or "(?!)", text
    ):
        spans.take(*match.span())
        host = host_of(match.group())
        if host and not (host in known.hosts or allowed(host, sorted(known.hosts))):
            yield "link"
    for start, end, national in phone_matches(text, region):
        if spans.free(start, end):
            spans.take(start, end)
            if national not in known.digits:
                yield "phone number"
    _codes(text, known, spans)
    for match in POSTAL.finditer(text):
        if spans.free(*match.span()):
            spans.take(*match.span())
            if _compact(match.group()) not in known.compact:
                yield "postal code"


def _moments(text: str, known: Sources, spans: _Spans) -> Iterator[str]:
    for moment in [*dates_in(text), *times_in(text)]:
        if not spans.free(moment.start, moment.end):
            continue
        spans.take(moment.start, moment.end)
        if moment.weekday is not None:
            if moment.weekday not in known.weekdays:
                yield "date"
        elif not moment.values & (known.times if moment.kind == "time" else known.dates):
            yield moment.kind


def _numbers(text: str, known: Sources, spans: _Spans, language: str) -> Iterator[str]:
    for match in NUMBER.finditer(text):
        if not spans.free(*match.span()):
            continue
        values = numeric_values(match.group())
        digits = re.sub(r"\D", "", match.group())
        kind = _number_kind(text, *match.span())
        known_numbers = known.numbers | (known.moment_numbers if kind == "number" else set())
        if not (values & known_numbers or (len(digits) > 2 and digits in known.digits)):
            yield kind
    for match in _NUMBER_WORD.finditer(text.casefold()):
        if _NUMBER_WORD_LANGUAGE.get(match.group(), language) != language:
            continue
        value = str(NUMBER_WORDS[match.group()])
        if value not in known.numbers and match.group() not in known.words:
            yield _number_kind(text, *match.span())


def _names(text: str, known: Sources, language: str) -> Iterator[str]:
    for name in names_in(text, guess_language(text, language)):
        if name.word.casefold() not in known.words:
            yield "proper name"
            return


def novel_facts(
    text: str, known: Sources, *, region: str = "US", language: str = "en"
) -> list[str]:
    """The kinds of fact the text states that no source contains, each once."""
    clean = plain(text)
    spans = _Spans()
    found = [
        *_contacts(clean, known, spans, region),
        *_moments(clean, known, spans),
        *_numbers(clean, known, spans, guess_language(clean, language)),
        *_names(clean, known, language),
    ]
    return list(dict.fromkeys(found))
