"""The filters templates may use: an allowlist of Jinja's, bounded, plus Babel formatting."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import dates, numbers
from jinja2 import filters as jinja_filters
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from templates_store.locales import babel_locale
from templates_store.sandbox import Fault, Refusal, check_weight, current
from templates_store.variables import Money

_JINJA_ALLOWED = (
    "abs capitalize count d default dictsort e escape first float forceescape groupby int items"
    " last length list lower map max min reject rejectattr reverse round select selectattr sort"
    " string striptags sum title trim truncate unique upper urlencode urlize wordcount xmlattr"
).split()
_MAX_JSON_INDENT = 8


def guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: check the deadline and collection sizes, charge the text it returns."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        state = current()
        state.check_time()
        for argument in (*args, *kwargs.values()):
            if isinstance(argument, list | tuple | dict):
                check_weight(argument, state.max_chars)
        result = function(*args, **kwargs)
        if isinstance(result, str):
            state.spend(len(result))
        return result

    return run


@pass_eval_context
def bounded_join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | None = None
) -> str:
    """`join`, refused when the joined text would be too large."""
    items = list(value)
    if attribute is not None:
        items = list(map(jinja_filters.make_attrgetter(eval_ctx.environment, attribute), items))
    size = len(str(d)) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items)
    current().spend(size)
    return jinja_filters.sync_do_join(eval_ctx, items, d)


@pass_eval_context
def bounded_replace(
    eval_ctx: EvalContext, value: str, old: str, new: str, count: int | None = None
) -> str:
    """`replace`, refused when the result would be too large."""
    text, old, new = str(value), str(old), str(new)
    hits = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        hits = min(hits, count)
    current().spend(len(text) + hits * max(len(new) - len(old), 0))
    return jinja_filters.do_replace(eval_ctx, value, old, new, count)


def bounded_batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> Iterator[Any]:
    """`batch`, its padding charged to the iteration budget."""
    current().tick(max(int(linecount), 0))
    return jinja_filters.do_batch(value, linecount, fill_with)


def bounded_slice(value: Any, slices: int, fill_with: Any = None) -> Iterator[Any]:
    """`slice`, its slice count charged to the iteration budget."""
    current().tick(max(int(slices), 0))
    return jinja_filters.sync_do_slice(value, slices, fill_with)


@pass_eval_context
def bounded_tojson(eval_ctx: EvalContext, value: Any, indent: int | None = None) -> Markup:
    """`tojson` with a small indent only."""
    if indent is not None and not 0 <= indent <= _MAX_JSON_INDENT:
        raise Refusal(f"tojson's indent must be between 0 and {_MAX_JSON_INDENT}")
    return jinja_filters.do_tojson(eval_ctx, value, indent)


def _when(value: Any, kind: type[Any], filter_name: str) -> Any:
    if isinstance(value, str):
        try:
            value = kind.fromisoformat(value)
        except ValueError:
            pass
    wanted = (datetime,) if kind is datetime else (kind, datetime)
    if not isinstance(value, wanted) or (kind is date and isinstance(value, time)):
        raise Fault(f"the {filter_name!r} filter needs a {kind.__name__} (or ISO 8601 text)")
    return value


def _formatted(filter_name: str, spec: Any, work: Callable[[], str]) -> str:
    try:
        return work()
    except (ValueError, TypeError, KeyError, InvalidOperation, LookupError):
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
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise Fault(f"the {filter_name!r} filter needs a number") from None
    return value


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


def _allowed_jinja() -> dict[str, Callable[..., Any]]:
    chosen = {name: jinja_filters.FILTERS[name] for name in _JINJA_ALLOWED}
    chosen.update(
        join=bounded_join,
        replace=bounded_replace,
        batch=bounded_batch,
        slice=bounded_slice,
        tojson=bounded_tojson,
    )
    return chosen


_BABEL: dict[str, Callable[..., Any]] = {
    "date": format_date,
    "datetime": format_datetime,
    "time": format_time,
    "number": format_number,
    "percent": format_percent,
    "money": format_money,
}
FILTERS = {name: guarded(function) for name, function in {**_allowed_jinja(), **_BABEL}.items()}
