"""The line an error names in a field's text, for the editor to mark."""

from __future__ import annotations

import pytest

from hcs.http.web.pages.marks import line_of
from templates_store.analysis import check_syntax
from templates_store.errors import TemplateProblem


def _message(source: str, part: str) -> str:
    with pytest.raises(TemplateProblem) as caught:
        check_syntax(source, part=part)
    return str(caught.value)


def test_a_syntax_error_names_the_line_of_its_part() -> None:
    text = "Hello\n\n{% if order_id %}\nyes"  # the block left open is on line 3
    assert line_of(_message(text, "sms.body.en"), text) == 3
    text = "Hello\n{{ order_id }\nyes"
    assert line_of(_message(text, "email.html.de-CH"), text) == 2


def test_a_quick_reply_error_names_the_line_of_that_reply_in_the_field() -> None:
    text = "Yes\n\nNo {{ \nLater"
    message = _message("No {{ ", "chat.quick_replies.en.1")  # blank lines are no reply
    assert message.startswith("chat.quick_replies.en.1, line 1: ")
    assert line_of(message, text) == 3


def test_a_message_that_names_no_line_marks_none() -> None:
    assert line_of("uses undeclared variable 'nope'", "{{ nope }}") is None
    assert line_of("is not valid JSON: Expecting value: line 1 column 1 (char 0)", "x") is None
    assert line_of("chat.quick_replies.en.5, line 1: unexpected '}'", "Yes\nNo") is None
