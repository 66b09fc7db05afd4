"""Dates, weekdays and times in text, in the forms four languages write them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier janv januar jänner enero ene",
        "february feb febr février févr februar febrero",
        "march mar mars märz marzo",
        "april apr avril avr abril abr",
        "may mai mayo",
        "june jun juin juni junio",
        "july jul juillet juil juli julio",
        "august aug août agosto ago",
        "september sep sept septembre septiembre setiembre",
        "october oct octobre oktober okt octubre",
        "november nov novembre noviembre",
        "december dec décembre déc dezember dez diciembre dic",
    ),
    start=1,
):
    MONTHS.update(dict.fromkeys(_names.split(), _number))
WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "monday mon lundi montag lunes",
        "tuesday tue tues mardi dienstag martes",
        "wednesday wed mercredi mittwoch miércoles miercoles",
        "thursday thu thur thurs jeudi donnerstag jueves",
        "friday fri vendredi freitag viernes",
        "saturday sat samedi samstag sonnabend sábado sabado",
        "sunday sun dimanche sonntag domingo",
    )
):
    WEEKDAYS.update(dict.fromkeys(_names.split(), _number))
# Short forms that are also common words count only with a number next to them.
_AMBIGUOUS = frozenset("may mar jan sun sat wed mon mai ago dic sept oct dez".split())
_LONG_MONTHS = "|".join(sorted((m for m in MONTHS if len(m) > 3), key=len, reverse=True))
_ALL_MONTHS = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAYS = "|".join(sorted((d for d in WEEKDAYS if len(d) > 3), key=len, reverse=True))
_D = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|er|º|\.)?"
_M = rf"(?P<m>{_ALL_MONTHS})\.?"
_Y = r"(?P<y>(?:19|20)\d\d)"
DATE_FORMS = (
    re.compile(rf"(?<!\d){_Y}-(?P<mn>[01]?\d)-(?P<d>[0-3]?\d)(?!\d)"),
    re.compile(r"(?<![\d.,])(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)(?:/(?P<y>(?:19|20)?\d\d))?(?![\d/])"),
    re.compile(
        r"(?<![\d.,])(?P<a>[0-3]?\d)[.-](?P<b>[01]?\d)[.-](?P<y>(?:19|20)?\d\d)(?![\d.,]\d)"
    ),
    re.compile(rf"\b{_D} (?:de |of )?{_M}(?:,? (?:de )?{_Y})?\b", re.IGNORECASE),
    re.compile(rf"\b{_M} {_D}(?:,? {_Y})?\b", re.IGNORECASE),
    re.compile(rf"\b{_M} {_Y}\b", re.IGNORECASE),
    re.compile(rf"\b(?P<m>{_LONG_MONTHS})\b", re.IGNORECASE),
)
_NEEDS = ("digit", "digit", "digit", "both", "both", "both", "month")
_WORDS = re.compile(r"[^\W\d_]+")
WEEKDAY = re.compile(rf"\b(?:{_DAYS})\b", re.IGNORECASE)
TIME_FORMS = (
    re.compile(
        r"(?<![\d.,])(?P<h>[0-2]?\d)[:h](?P<mi>[0-5]\d)(?: ?(?P<ap>[ap])\.? ?m\b\.?)?", re.I
    ),
    re.compile(r"\b(?P<h>1[0-2]|0?\d) ?(?P<ap>[ap])\.? ?m\b\.?", re.I),
    re.compile(r"\b(?P<h>[0-2]?\d) ?(?:uhr|h|heures?|horas?)(?: ?(?P<mi>[0-5]\d))?\b", re.I),
)


@dataclass(frozen=True)
class Moment:
    """One date or time mentioned in a text: its span and the values it may stand for."""

    kind: str
    start: int
    end: int
    values: frozenset[tuple[int, int]]
    weekday: int | None = None


def _pair(month: int, day: int) -> set[tuple[int, int]]:
    return {(month, day)} if 1 <= month <= 12 and 0 <= day <= 31 else set()


def _date_values(match: re.Match[str]) -> set[tuple[int, int]]:
    found = match.groupdict()
    if found.get("a"):
        a, b = int(found["a"]), int(found["b"])
        return _pair(b, a) | _pair(a, b)
    month = int(found["mn"]) if found.get("mn") else MONTHS[found["m"].lower().rstrip(".")]
    day = int(found["d"]) if found.get("d") else 0
    return _pair(month, day)


def dates_in(text: str) -> Iterator[Moment]:
    """Every date and weekday, longest form first, never two over the same characters."""
    taken: list[tuple[int, int]] = []
    words = set(_WORDS.findall(text.lower()))
    # The forms are costly to scan: run only those the text can hold (digits, month names).
    forms = [f for f, needs in zip(DATE_FORMS, _NEEDS, strict=True) if _has(needs, text, words)]
    for form in forms:
        for match in form.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            word = (match.groupdict().get("m") or "").lower()
            if word in _AMBIGUOUS and not (
                match.groupdict().get("d") or match.groupdict().get("y")
            ):
                continue
            if word == "may" and not match.group("m")[0].isupper():
                continue
            values = _date_values(match)
            if values:
                taken.append(match.span())
                yield Moment("date", match.start(), match.end(), frozenset(values))
    for match in WEEKDAY.finditer(text) if words & WEEKDAYS.keys() else ():
        day = WEEKDAYS[match.group().lower()]
        yield Moment("date", match.start(), match.end(), frozenset(), weekday=day)


def _has(needs: str, text: str, words: set[str]) -> bool:
    digits = any(c.isdigit() for c in text)
    months = bool(words & MONTHS.keys())
    return {"digit": digits, "month": months, "both": digits and months}[needs]


def times_in(text: str) -> Iterator[Moment]:
    """Every clock time, as (hour on a 24-hour clock, minute), both readings of 1-12 a.m./p.m."""
    taken: list[tuple[int, int]] = []
    for form in TIME_FORMS if any(c.isdigit() for c in text) else ():
        for match in form.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            hour, minute = int(match.group("h")), int(match.groupdict().get("mi") or 0)
            if hour > 24:
                continue
            ap = (match.groupdict().get("ap") or "").lower()
            hours = {hour % 12 + (12 if ap == "p" else 0)} if ap else {hour, (hour + 12) % 24}
            taken.append(match.span())
            values = frozenset((h, minute) for h in hours)
            yield Moment("time", match.start(), match.end(), values)


def known_moments(text: str) -> tuple[set[tuple[int, int]], set[int], set[tuple[int, int]]]:
    """The (month, day) pairs, weekdays and times a source text states or implies."""
    pairs: set[tuple[int, int]] = set()
    weekdays: set[int] = set()
    for match in re.finditer(r"\b((?:19|20)\d\d)-([01]?\d)-([0-3]?\d)", text):
        try:
            weekdays.add(date(*map(int, match.groups())).weekday())
        except ValueError:
            pass
    for moment in dates_in(text):
        pairs |= moment.values
        pairs |= {(m, 0) for m, _ in moment.values}
        if moment.weekday is not None:
            weekdays.add(moment.weekday)
    times = {v for moment in times_in(text) for v in moment.values}
    return pairs, weekdays, times
