"""What a reader sees of an HTML body: hidden elements, comments and style sheets do not show."""

from __future__ import annotations

import pytest

from hcs.governance.visibility import visible_text

SHOWN = "Written with AI."


@pytest.mark.parametrize(
    ("markup", "css"),
    [
        (f"<!-- <p>{SHOWN}</p> -->", ""),
        (f"<div hidden><p>{SHOWN}</p></div>", ""),
        (f'<div aria-hidden="true">{SHOWN}</div>', ""),
        (f'<span style="display:none">{SHOWN}</span>', ""),
        (f'<span style="font-size: 0px">{SHOWN}</span>', ""),
        (f'<span style="opacity:0">{SHOWN}</span>', ""),
        (f"<style>.x {{ color: red }}</style><template>{SHOWN}</template>", ""),
        (f'<div class="fine"><b>{SHOWN}</b></div>', ".fine { visibility: hidden }"),
        (f'<html><head><style>.f{{display:none}}</style></head><body><p class="f">{SHOWN}</p>', ""),
    ],
)
def test_a_hidden_text_is_not_seen(markup: str, css: str) -> None:
    assert SHOWN not in visible_text(f"<p>Hello</p>{markup}<p>Bye</p>", css)


@pytest.mark.parametrize(
    ("markup", "css"),
    [
        (f"<p>{SHOWN}</p>", ""),
        (f'<span style="font-size: 0.8em">{SHOWN}</span>', ""),
        (f'<p class="small"><p>{SHOWN}</p></p>', ".small { display: none }"),  # p closes p
        (f"<p>{SHOWN}<br><img alt=''></p>", "</style><p>fake</p>"),
    ],
)
def test_a_shown_text_is_seen(markup: str, css: str) -> None:
    assert SHOWN in visible_text(markup, css)
    assert "fake" not in visible_text(markup, css)
