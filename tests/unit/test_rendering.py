"""Rendering parts: escaping, blocks, Babel formatting in the message's locale, clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from markupsafe import Markup

from templates_store.errors import (
    RenderError,
    SandboxViolation,
    TemplateSyntaxProblem,
    ValidationFailed,
)
from templates_store.rendering import BlockSource, Limits, compiled, render, render_css
from templates_store.variables import Money

FOOTER = BlockSource(
    "footer", html="<p class='legal'>{{ brand.name }} &middot; {{ name }}</p>", text="-- {{ name }}"
)


def html(source: str, locale: str = "en", **data: Any) -> str:
    return render(source, part="email.html.en", html=True, data=data, locale=locale)


def text(source: str, locale: str = "en", **data: Any) -> str:
    return render(source, part="sms.body.en", html=False, data=data, locale=locale)


def test_data_values_are_top_level_names() -> None:
    assert text(
        "Order {{ order_id }} for {{ customer.name }}", order_id="A-1", customer={"name": "Ana"}
    ) == ("Order A-1 for Ana")


def test_html_parts_escape_data() -> None:
    output = html("<p>Hi {{ name }}</p>", name="<script>alert(1)</script>")
    assert output == "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert isinstance(output, Markup)


def test_text_parts_do_not_escape_data() -> None:
    output = text("Hi {{ name }} & co", name="Tom & <Jerry>")
    assert output == "Hi Tom & <Jerry> & co"
    assert not isinstance(output, Markup)


def test_markup_looking_data_is_still_escaped() -> None:
    assert html("{{ name }}", name=Markup("<b>x</b>").unescape()) == "&lt;b&gt;x&lt;/b&gt;"


def test_mapping_keys_win_over_mapping_methods() -> None:
    assert text("{{ order.items|join(',') }}", order={"items": ["a", "b"]}) == "a,b"


def test_the_usual_template_constructs_work() -> None:
    source = (
        "{% macro line(item) %}{{ item.name|title }} x{{ item.qty }}{% endmacro %}"
        "{% for item in items if item.qty %}{{ loop.index }}. {{ line(item) }}"
        "{% if not loop.last %}; {% endif %}{% endfor %}"
        "{% set total = items|sum(attribute='qty') %} = {{ total }}"
        "{{ ' (' ~ items|length ~ ' lines)' }}{{ none_value }}"
    )
    items = [{"name": "tea", "qty": 2}, {"name": "cup", "qty": 0}, {"name": "pot", "qty": 1}]
    assert text(source, items=items, none_value=None) == "1. Tea x2; 2. Pot x1 = 3 (3 lines)"


def test_brand_and_locale_are_available() -> None:
    output = render(
        "{{ brand.name }} ({{ locale }})",
        part="sms.body.fr",
        html=False,
        data={},
        locale="fr_fr",
        brand={"name": "Acme"},
    )
    assert output == "Acme (fr-FR)"


def test_an_unknown_locale_is_refused_as_input() -> None:
    with pytest.raises(ValidationFailed) as caught:
        text("x", locale="xx-YY")
    assert "locale" in caught.value.errors


def test_blocks_render_their_html_source_in_html_parts() -> None:
    output = render(
        "<div>{{ block('footer') }}</div>",
        part="email.html.en",
        html=True,
        data={"name": "<Ann>"},
        locale="en",
        brand={"name": "Acme & Co"},
        blocks={"footer": FOOTER},
    )
    assert output == "<div><p class='legal'>Acme &amp; Co &middot; &lt;Ann&gt;</p></div>"


def test_blocks_render_their_text_source_in_text_parts() -> None:
    output = render(
        "Bye{{ block('footer') }}",
        part="email.text.en",
        html=False,
        data={"name": "<Ann>"},
        locale="en",
        blocks={"footer": FOOTER},
    )
    assert output == "Bye-- <Ann>"


def test_an_unknown_block_names_the_part_and_line() -> None:
    with pytest.raises(RenderError) as caught:
        render("a\n{{ block('nope') }}", part="email.html.en", html=True, data={}, locale="en")
    assert str(caught.value) == "email.html.en, line 2: unknown content block 'nope'"


def test_a_block_without_the_needed_version_is_an_error() -> None:
    blocks = {"legal": BlockSource("legal", html="<p>x</p>", text=None)}
    with pytest.raises(RenderError) as caught:
        render(
            "{{ block('legal') }}",
            part="sms.body.en",
            html=False,
            data={},
            locale="en",
            blocks=blocks,
        )
    assert "content block 'legal' has no text version" in str(caught.value)


def test_an_error_inside_a_block_names_the_block_and_its_line() -> None:
    blocks = {"footer": BlockSource("footer", html="ok\n{{ missing }}", text=None)}
    with pytest.raises(RenderError) as caught:
        render(
            "x\n\n{{ block('footer') }}",
            part="email.html.en",
            html=True,
            data={},
            locale="en",
            blocks=blocks,
        )
    assert str(caught.value) == (
        "email.html.en, line 3: in block 'footer', line 2: 'missing' is undefined"
    )
    assert caught.value.line == 3


def test_blocks_cannot_include_blocks() -> None:
    blocks = {"a": BlockSource("a", html="{{ block('b') }}", text=None), "b": FOOTER}
    with pytest.raises(RenderError) as caught:
        render(
            "{{ block('a') }}", part="email.html.en", html=True, data={}, locale="en", blocks=blocks
        )
    assert "a content block cannot include another block" in str(caught.value)


def test_an_undefined_variable_names_the_part_and_line() -> None:
    with pytest.raises(RenderError) as caught:
        html("<p>Hello</p>\n<p>{{ name }}</p>\n<p>Order {{ order_id }}</p>", name="Ann")
    assert str(caught.value) == "email.html.en, line 3: 'order_id' is undefined"
    assert (caught.value.part, caught.value.line) == ("email.html.en", 3)


def test_an_undefined_attribute_names_the_line() -> None:
    with pytest.raises(RenderError) as caught:
        text("{% if True %}\n{{ order.total }}\n{% endif %}", order={"id": 1})
    assert str(caught.value) == "sms.body.en, line 2: this value has no key 'total'"


def test_an_undefined_name_inside_a_macro_names_the_macro_line() -> None:
    source = "{% macro m() %}\n\n{{ nope }}{% endmacro %}\n{{ m() }}"
    with pytest.raises(RenderError) as caught:
        text(source)
    assert caught.value.line == 3


def test_a_syntax_error_names_the_part_and_line() -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        html("<p>ok</p>\n{% if x %}\n<p>{{ x }</p>")
    assert caught.value.part == "email.html.en"
    assert caught.value.line == 3
    assert str(caught.value).startswith("email.html.en, line 3: ")


def test_runtime_errors_are_render_errors_with_a_plain_cause() -> None:
    with pytest.raises(RenderError) as caught:
        text("{{ 1 / zero }}", zero=0)
    assert str(caught.value) == "sms.body.en, line 1: division by zero"


def test_compiled_templates_are_cached_by_content() -> None:
    source = "Cached {{ n }} " + "x" * 10
    assert compiled(source, html=True) is compiled(
        "".join(["Cached {{ n }} ", "x" * 10]), html=True
    )
    assert compiled(source, html=True) is not compiled(source, html=False)


def test_render_css_sees_brand_and_locale_only() -> None:
    css = render_css(
        "body { color: {{ brand.colors.text }}; } /* {{ locale }} */",
        part="letter.css.en",
        brand={"colors": {"text": "#222"}},
        locale="de-DE",
    )
    assert css == "body { color: #222; } /* de-DE */"
    with pytest.raises(RenderError) as caught:
        render_css("{{ name }}", part="letter.css.en", brand=None, locale="en")
    assert str(caught.value) == "letter.css.en, line 1: 'name' is undefined"


def test_render_css_is_not_escaped() -> None:
    css = render_css(
        "a::after { content: '{{ brand.q }}'; }", part="c", brand={"q": "<&>"}, locale="en"
    )
    assert css == "a::after { content: '<&>'; }"


BILL = Money(Decimal("1234.5"), "EUR")
WHEN = datetime(2026, 3, 1, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "€1,234.50"), ("fr-FR", "1\u202f234,50\xa0€"), ("de-DE", "1.234,50\xa0€")],
)
def test_money_is_formatted_in_the_message_locale(locale: str, expected: str) -> None:
    assert text("{{ total|money }}", locale=locale, total=BILL) == expected


def test_money_accepts_a_plain_number_with_a_currency() -> None:
    assert text("{{ n|money('USD') }}", n=Decimal("5")) == "$5.00"
    assert text("{{ n|money('JPY') }}", locale="ja", n=1500) == "￥1,500"


def test_money_without_a_currency_is_a_clear_error() -> None:
    with pytest.raises(RenderError) as caught:
        text("{{ n|money }}", n=5)
    assert "the 'money' filter needs a money value" in str(caught.value)
    with pytest.raises(RenderError) as caught:
        text("{{ n|money('XYZ') }}", n=5)
    assert "'XYZ' is not a known currency" in str(caught.value)


@pytest.mark.parametrize(
    ("locale", "source", "expected"),
    [
        ("en", "{{ d|date }}", "Mar 1, 2026"),
        ("en", "{{ d|date('long') }}", "March 1, 2026"),
        ("fr-FR", "{{ d|date('long') }}", "1 mars 2026"),
        ("de-DE", "{{ d|date('full') }}", "Sonntag, 1. März 2026"),
        ("de-DE", "{{ d|date('dd.MM.yy') }}", "01.03.26"),
        ("fr-FR", "{{ when|datetime('short', tz='Europe/Paris') }}", "01/03/2026 15:05"),
        ("en", "{{ when|time('short') }}", "2:05\u202fPM"),
        ("de-DE", "{{ when|time('HH:mm', tz='Europe/Berlin') }}", "15:05"),
        ("en", "{{ '2026-03-01'|date('long') }}", "March 1, 2026"),
    ],
)
def test_dates_are_formatted_in_the_message_locale(locale: str, source: str, expected: str) -> None:
    assert text(source, locale=locale, d=date(2026, 3, 1), when=WHEN) == expected


@pytest.mark.parametrize(
    ("locale", "source", "expected"),
    [
        ("en", "{{ n|number }}", "1,234.567"),
        ("de-DE", "{{ n|number }}", "1.234,567"),
        ("fr-FR", "{{ n|number('#,##0.0') }}", "1\u202f234,6"),
        ("en", "{{ r|percent }}", "25%"),
        ("fr-FR", "{{ r|percent }}", "25\xa0%"),
    ],
)
def test_numbers_are_formatted_in_the_message_locale(
    locale: str, source: str, expected: str
) -> None:
    assert text(source, locale=locale, n=Decimal("1234.567"), r=Decimal("0.25")) == expected


def test_a_wrong_value_for_a_babel_filter_is_a_clear_error() -> None:
    with pytest.raises(RenderError) as caught:
        text("x\n{{ name|date }}", name="Ann")
    assert str(caught.value) == (
        "sms.body.en, line 2: the 'date' filter needs a date (or ISO 8601 text)"
    )
    with pytest.raises(RenderError) as caught:
        text("{{ d|datetime('short', tz='Mars/Olympus') }}", d=WHEN)
    assert "cannot use the format" in str(caught.value)


def test_money_prints_readably_without_a_filter() -> None:
    assert text("{{ total }} / {{ total.amount }} {{ total.currency }}", total=BILL) == (
        "1234.5 EUR / 1234.5 EUR"
    )


def test_the_output_limit_is_not_hit_by_normal_templates() -> None:
    items = [{"name": f"item {i}", "price": Money(Decimal(i), "EUR")} for i in range(500)]
    output = html(
        "{% for i in items %}<li>{{ i.name }}: {{ i.price|money }}</li>{% endfor %}", items=items
    )
    assert output.count("<li>") == 500


def test_sandbox_refusals_carry_the_line() -> None:
    with pytest.raises(SandboxViolation) as caught:
        html("ok\n{{ name.__class__ }}", name="x")
    assert caught.value.line == 2


@pytest.mark.parametrize("value", ["1e999999", Decimal("1e-999999"), 10**200, "abc", None])
def test_numbers_out_of_range_or_not_numbers_are_clear_errors(value: Any) -> None:
    with pytest.raises(RenderError) as caught:
        text("{{ n|number }}", n=value)
    assert "the 'number' filter" in str(caught.value)


def test_none_joins_as_nothing_like_it_prints() -> None:
    assert text("{{ 'Hi' ~ coupon }}|{{ coupon }}|", coupon=None) == "Hi||"


@pytest.mark.parametrize(
    ("source", "cause"),
    [
        ("{{ 2.0 ** 100000 }}", "a number would be too large"),
        ("{{ n / 0 }}", "division by zero"),
        ("{{ name|truncate(-5) }}", "a filter was given arguments it cannot use"),
        ("{{ d|date(1) }}", "the 'date' filter cannot use the format 1"),
        ("{{ 'a' - 1 }}", "unsupported operand type(s) for -: 'str' and 'int'"),
    ],
)
def test_python_errors_become_plain_causes(source: str, cause: str) -> None:
    with pytest.raises(RenderError) as caught:
        text(source, n=Decimal(1), name="Ann", d=date(2026, 1, 1))
    assert str(caught.value) == f"sms.body.en, line 1: {cause}"


def test_a_syntax_error_in_a_block_names_the_block_and_the_calling_line() -> None:
    blocks = {"footer": BlockSource("footer", html="{% if %}", text=None)}
    with pytest.raises(TemplateSyntaxProblem) as caught:
        render(
            "a\n{{ block('footer') }}",
            part="email.html.en",
            html=True,
            data={},
            locale="en",
            blocks=blocks,
        )
    assert str(caught.value).startswith("email.html.en, line 2: in block 'footer', line 1: ")


def test_the_work_limit_is_configurable() -> None:
    source = "{% for i in items %}{{ i }}{% endfor %}"
    assert text(source, items=list(range(1000))).endswith("999")
    with pytest.raises(SandboxViolation) as caught:
        render(
            source,
            part="sms.body.en",
            html=False,
            data={"items": list(range(1000))},
            locale="en",
            limits=Limits(max_iterations=500),
        )
    assert "too many loop iterations" in str(caught.value)
