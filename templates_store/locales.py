"""Locales: tags (checked by Babel), the fallback chain, and formatting in a message's locale."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.core import parse_locale

from templates_store.errors import ValidationFailed
from templates_store.sandbox import Fault, current
from templates_store.variables import Money


@lru_cache(maxsize=512)
def normalize_locale(tag: str) -> str:
    """Return the canonical form of a locale tag ("fr_ca" -> "fr-CA"); refuse unknown ones."""
    cleaned = tag.strip().replace("_", "-") if isinstance(tag, str) else ""
    try:
        language, territory, script, variant = parse_locale(cleaned, sep="-")[:4]
        Locale.parse(cleaned, sep="-")
    except (ValueError, UnknownLocaleError, TypeError):
        raise ValidationFailed({"locale": [f"{tag!r} is not a known locale"]}) from None
    return "-".join(p for p in (language, script, territory, variant) if p)


def babel_locale(tag: str) -> Locale:
    """The Babel locale for a tag, for formatting."""
    return _parsed(normalize_locale(tag))


@lru_cache(maxsize=256)
def _parsed(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def _parents(tag: str) -> list[str]:
    subtags = tag.split("-")
    return ["-".join(subtags[:n]) for n in range(len(subtags), 0, -1)]


def fallback_chain(requested: str, default: str) -> list[str]:
    """The locales to try in order: the requested one, its parents, then the default."""
    chain = [*_parents(normalize_locale(requested)), normalize_locale(default)]
    return list(dict.fromkeys(chain))


def formatting_locale(requested: str | None, chosen: str) -> str:
    """The locale dates and numbers are formatted in: the requested one (en-GB) when the text
    chosen for it is in its language (en), else the text's own."""
    if requested and _lenient(chosen) in _parents(normalize_locale(requested)):
        return normalize_locale(requested)
    return chosen


def resolve_locale(available: Iterable[str], requested: str | None, default: str) -> str | None:
    """The first locale of the fallback chain that is available (as spelled in `available`)."""
    spelled = {_lenient(tag): tag for tag in available}
    for tag in fallback_chain(requested or default, default):
        if tag in spelled:
            return spelled[tag]
    return None


def _lenient(tag: str) -> str:
    try:
        return normalize_locale(tag)
    except ValidationFailed:
        return tag


_MAX_DIGITS = 40


def _when(value: Any, kind: type[Any], filter_name: str) -> Any:
    if isinstance(value, str):
        try:
            value = kind.fromisoformat(value)
        except ValueError:
            pass
    wanted = (datetime,) if kind is datetime else (kind, datetime)
    if not isinstance(value, wanted):
        raise Fault(f"the {filter_name!r} filter needs a {kind.__name__} (or ISO 8601 text)")
    return value


def _formatted(filter_name: str, spec: Any, work: Callable[[], str]) -> str:
    try:
        return work()
    except Exception:  # whatever Babel raises, the author needs to hear which filter and format
        raise Fault(f"the {filter_name!r} filter cannot use the format {spec!r}") from None


def _zone(name: str | None) -> tzinfo | None:
    return None if name is None else dates.get_timezone(name)


def format_date(value: Any, format: str = "medium") -> str:
    """`date`: a date in the message's locale (short, medium, long, full or a pattern)."""
    when = _when(value, date, "date")
    locale = babel_locale(current().locale)
    return _formatted("date", format, lambda: dates.format_date(when, format, locale=locale))


def format_datetime(value: Any, format: str = "medium", tz: str | None = None) -> str:
    """`datetime`: a date and time in the message's locale, optionally in time zone `tz`."""
    when = _when(value, datetime, "datetime")
    locale = babel_locale(current().locale)
    return _formatted(
        "datetime", format, lambda: dates.format_datetime(when, format, _zone(tz), locale=locale)
    )


def format_time(value: Any, format: str = "medium", tz: str | None = None) -> str:
    """`time`: the time of day in the message's locale, optionally in time zone `tz`."""
    when = value if isinstance(value, time) else _when(value, datetime, "time")
    locale = babel_locale(current().locale)
    return _formatted(
        "time", format, lambda: dates.format_time(when, format, _zone(tz), locale=locale)
    )


def _number(value: Any, filter_name: str) -> Decimal | int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise Fault(f"the {filter_name!r} filter needs a number")
    try:
        number = Decimal(value) if isinstance(value, str) else value
        digits = Decimal(number).adjusted() if number else 0
    except (InvalidOperation, ValueError, OverflowError):
        raise Fault(f"the {filter_name!r} filter needs a number") from None
    if abs(digits) > _MAX_DIGITS:  # Babel would write out every digit of 1e999999
        raise Fault(f"the {filter_name!r} filter's number is out of range")
    return number


def format_number(value: Any, format: str | None = None) -> str:
    """`number`: a decimal number in the message's locale."""
    number = _number(value, "number")
    locale = babel_locale(current().locale)
    return _formatted(
        "number", format, lambda: numbers.format_decimal(number, format, locale=locale)
    )


def format_percent(value: Any, format: str | None = None) -> str:
    """`percent`: a ratio (0.25) as a percentage in the message's locale."""
    number = _number(value, "percent")
    locale = babel_locale(current().locale)
    return _formatted(
        "percent", format, lambda: numbers.format_percent(number, format, locale=locale)
    )


def format_money(value: Any, currency: str | None = None, format: str | None = None) -> str:
    """`money`: a Money value (or a number and a currency code) in the message's locale."""
    amount: Decimal | int | float
    if isinstance(value, Mapping) and set(value) == {"amount", "currency"}:
        amount = _number(value["amount"], "money")  # raw preview data, not loaded yet
        value = Money(Decimal(str(amount)), str(value["currency"]))
    if isinstance(value, Money):
        amount, code = value.amount, currency or value.currency
    elif currency is None:
        raise Fault("the 'money' filter needs a money value, or a currency: money('EUR')")
    else:
        amount, code = _number(value, "money"), currency
    if not numbers.is_currency(str(code)):
        raise Fault(f"{code!r} is not a known currency")
    locale = babel_locale(current().locale)
    return _formatted(
        "money",
        format,
        lambda: numbers.format_currency(amount, code, format, locale=locale),
    )


FORMATTERS: dict[str, Callable[..., Any]] = {
    "date": format_date,
    "datetime": format_datetime,
    "time": format_time,
    "number": format_number,
    "percent": format_percent,
    "money": format_money,
}
