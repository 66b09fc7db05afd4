"""Static analysis: syntax checked at save time, the variables and blocks a source uses."""

from __future__ import annotations

import pytest

from templates_store.analysis import RESERVED_NAMES, check_syntax, used_blocks, used_variables
from templates_store.errors import TemplateSyntaxProblem


def test_valid_sources_pass_the_syntax_check() -> None:
    check_syntax(
        "<p>{{ name|upper }}</p>{% for i in items %}{{ i }}{% endfor %}", part="email.html.en"
    )


@pytest.mark.parametrize(
    ("source", "line", "cause"),
    [
        ("ok\n{{ name }", 2, "unexpected '}'"),
        ("{% if x %}\nno end", 1, "Unexpected end of template"),
        ("a\nb\n{% frobnicate %}", 3, "Encountered unknown tag 'frobnicate'"),
        ("\n{{ x|attr('__class__') }}", 2, "No filter named 'attr'"),
        ("{% include 'other.html' %}", 1, "cannot include files"),
        ("\n\n{{ self }}", 3, "'self' is not available"),
    ],
)
def test_syntax_errors_name_the_part_line_and_cause(source: str, line: int, cause: str) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_syntax(source, part="email.html.fr")
    assert caught.value.part == "email.html.fr"
    assert caught.value.line == line
    assert cause in caught.value.cause
    assert str(caught.value).startswith(f"email.html.fr, line {line}: ")


def test_used_variables_are_the_top_level_names_read_and_not_set() -> None:
    source = (
        "{{ first_name }} {{ order.total|money }}{% set shown = order.id %}{{ shown }}"
        "{% for item in items %}{{ item.name }} {{ loop.index }}{% endfor %}"
        "{% macro m(x) %}{{ x }}{{ footer_note }}{% endmacro %}{{ m(1) }}"
        "{{ brand.name }} {{ locale }} {{ unsubscribe_url }} {{ recipient.email }}"
        "{{ block('footer') }}{% for i in range(3) %}{% endfor %}"
    )
    assert used_variables(source, part="p") == {"first_name", "order", "items", "footer_note"}


def test_reserved_names_include_the_globals() -> None:
    assert {"brand", "locale", "block", "range", "unsubscribe_url", "recipient"} <= RESERVED_NAMES


def test_used_variables_reports_syntax_errors() -> None:
    with pytest.raises(TemplateSyntaxProblem):
        used_variables("{{ x", part="p")


def test_used_blocks_lists_the_keys_of_block_calls() -> None:
    source = "{{ block('header') }}<p>{{ name }}</p>{{ block(\"footer\") }}{{ block('footer') }}"
    assert used_blocks(source, part="email.html.en") == {"header", "footer"}
    assert used_blocks("no blocks here", part="p") == set()


@pytest.mark.parametrize(
    "source",
    [
        "{{ block(key) }}",
        "{{ block('a' ~ 'b') }}",
        "{{ block() }}",
        "{{ block('a', 'b') }}",
        "{% set b = block %}{{ b('x') }}",
        "{{ [block]|first }}",
    ],
)
def test_a_block_call_without_one_constant_key_is_refused(source: str) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        used_blocks(source, part="email.html.en")
    assert "block() takes one quoted key" in str(caught.value)
    assert caught.value.line == 1


def test_a_source_too_deeply_nested_for_python_is_a_syntax_problem() -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_syntax("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", part="sms.body.en")
    assert caught.value.part == "sms.body.en"


@pytest.mark.parametrize(
    "source",
    [
        "{% set block = 1 %}",
        "{% for self in xs %}{% endfor %}",
        "{% macro block() %}{% endmacro %}",
    ],
)
def test_reserved_names_cannot_be_assigned(source: str) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_syntax(source, part="p")
    assert "is a reserved name" in str(caught.value)


def test_syntax_messages_about_symbols_are_kept() -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_syntax("{{ < }}", part="p")
    assert str(caught.value) == "p, line 1: unexpected '<'"
