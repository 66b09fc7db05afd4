"""The plain-text alternative a reader of the text part gets from the HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.plaintext import html_to_text
from tests.channels import plaintext_reference as reference

ORDER = """<!doctype html><html><head><title>Order</title><style>p{color:red}</style></head>
<body>
  <div style="display:none;max-height:0">Preheader: your parcel is coming</div>
  <table role="presentation" width="100%"><tr><td>
    <h1>Thank   you,
        Ana!</h1>
    <p>Order <strong>A-1</strong> was placed.</p>
    <table>
      <tr><th>Item</th><th>Qty</th></tr>
      <tr><td>Ceramic mug</td><td>2</td></tr>
      <tr><td>Tea</td><td>10</td></tr>
    </table>
    <p><a href="https://track.example/A-1">Track your parcel</a></p>
  </td></tr>
  <tr><td><p>Acme &amp; Co<br>12 rue de la Paix</p>
    <p><a href="https://acme.example/u/1">Unsubscribe</a></p></td></tr></table>
  <script>alert("x")</script>
</body></html>"""


def test_an_order_mail_reads_as_paragraphs_rows_and_links() -> None:
    assert html_to_text(ORDER) == (
        "Thank you, Ana!\n"
        "\n"
        "Order A-1 was placed.\n"
        "\n"
        "Item         Qty\n"
        "Ceramic mug  2\n"
        "Tea          10\n"
        "\n"
        "Track your parcel (https://track.example/A-1)\n"
        "\n"
        "Acme & Co\n"
        "12 rue de la Paix\n"
        "\n"
        "Unsubscribe (https://acme.example/u/1)\n"
    )


@pytest.mark.parametrize(
    "html, text",
    [
        ("", "\n"),
        ("just words", "just words\n"),
        ("<ul><li>one</li><li>two</li></ul><p>after</p>", "* one\n* two\n\nafter\n"),
        ("<pre>  kept\n    as is</pre>", "  kept\n    as is\n"),
        ('<a href="mailto:help@acme.example">write to us</a>', "write to us (help@acme.example)\n"),
        ('<a href="https://acme.example">https://acme.example</a>', "https://acme.example\n"),
        ('<a href="javascript:steal()">click</a>', "click\n"),  # never shown as an address
        ("<p hidden>secret</p><p>shown</p>", "shown\n"),
        ('<p style="mso-hide: all">outlook only</p><p>x</p>', "x\n"),
        ("<p>a<!-- note -->b</p>", "ab\n"),
        ("<p>one</p><hr><p>two</p>", "one\n\n--------------------\n\ntwo\n"),
        ('<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>', "x\n"),
        ('<meta charset="iso-8859-1"><p>café – 10 €</p>', "café – 10 €\n"),
        ("<!-- only a comment -->", "\n"),
    ],
)
def test_each_construct_reads_as_a_reader_expects(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_hostile_nesting_neither_crashes_nor_hangs() -> None:
    deep = "<div>" * 20_000 + "deep" + "</div>" * 20_000
    assert html_to_text(deep).endswith("\n")
    wide = "<table>" + "<tr>" + "<td>x</td>" * 2_000 + "</tr>" * 500 + "</table>"
    assert html_to_text(wide).count("x") >= 2_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.text(alphabet="abcXYZ 123é", min_size=1, max_size=12), max_size=6),
    tags=st.lists(st.sampled_from(["p", "div", "td", "li", "b", "a", "h2", "span"]), max_size=6),
)
def test_every_visible_word_and_link_is_kept(words: list[str], tags: list[str]) -> None:
    html = "".join(
        f'<{tag} href="https://x.example/{n}">{word}</{tag}>'
        for n, (tag, word) in enumerate(zip(tags, words, strict=False))
    )
    text = html_to_text(html)
    assert text.endswith("\n") and not any(line != line.rstrip() for line in text.split("\n"))
    for n, (tag, word) in enumerate(zip(tags, words, strict=False)):
        for piece in word.split():
            assert piece in text
        if tag == "a" and word.strip():
            assert f"https://x.example/{n}" in text


@settings(max_examples=300, deadline=None)
@given(html=st.text(alphabet=st.sampled_from(list("<>/=\"'&;! ?-apbrtdhx\x00\ud800é\n"))))
def test_any_text_whatever_its_markup_gives_a_text_part(html: str) -> None:
    text = html_to_text(html)
    assert text.endswith("\n") and "\n\n\n" not in text


# The text part is versioned (finishing 2) and archived mail is finished again byte for byte:
# the converter must write what its first version wrote, for every input.
REPOSITORY = Path(__file__).resolve().parents[2]
CORPUS = sorted(
    path
    for pattern in ("hcs/**/*.html", "templates_store/demo/**/*.html.*.j2")
    for path in REPOSITORY.glob(pattern)
)
TAGS = (
    "p", "div", "span", "b", "a", "td", "th", "tr", "table", "tbody", "li", "ul", "ol", "br",
    "pre", "hr", "h1", "img", "head", "style", "script", "title", "svg", "body", "html",
    "noscript", "template", "caption", "center", "o:p", "blockquote", "dl", "dt", "dd",
)  # fmt: skip
ATTRIBUTES = (
    "", " hidden", ' style="display:none"', ' style="DISPLAY : None"', ' style="color:red"',
    ' style="mso-hide:all"', ' style="diſplay:none"', ' style="visibility: hidden; x"',
    ' href="https://x.example/a b"', ' href="mailto:a@b.example"', ' href=" HTTP://Y "',
    ' href="javascript:x()"', ' href=""', ' hidden=""',
)  # fmt: skip
TEXTS = (
    "", " ", "  ", "\n", "\t", "\r\n", "\xa0", "\u2028", "\u3000", "\x0b", "\x1c", "\x85",
    "word", "two  words", " lead", "trail ", "  \n  x  \n  ", "&amp;", "&nbsp;", "&#10;",
    "&#160;", "&foo;", "<!-- c -->", "<?pi x?>", "<![CDATA[cd]]>", "<!doctype html>", "é",
    "\x00", "\ud800", "https://x.example/a b", "a@b.example", "*", "<", "&", "</td>", "</tr>",
    "</table>", "</a>", "<td>", "<tr>", "</p>", "</pre>",
)  # fmt: skip


def _element(tag: str, attributes: str, inner: list[str], closed: bool) -> str:
    return f"<{tag}{attributes}>{''.join(inner)}" + (f"</{tag}>" if closed else "")


MARKUP = st.recursive(
    st.sampled_from(TEXTS),
    lambda inner: st.builds(
        _element,
        st.sampled_from(TAGS),
        st.sampled_from(ATTRIBUTES),
        st.lists(inner, max_size=5),
        st.booleans(),
    ),
    max_leaves=40,
)


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.name)
def test_the_repository_html_reads_as_the_first_converter_read_it(path: Path) -> None:
    html = path.read_text()
    assert html_to_text(html) == reference.html_to_text(html)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(MARKUP, max_size=6))
def test_any_markup_reads_as_the_first_converter_read_it(pieces: list[str]) -> None:
    html = "".join(pieces)
    assert html_to_text(html) == reference.html_to_text(html)


def test_the_converters_agree_on_what_counts_as_whitespace() -> None:
    # str.split and str.isspace stand in for the reference's `\s+`: the same characters, all.
    spaces = "".join(c for c in map(chr, range(0x110000)) if re.fullmatch(r"\s", c))
    assert spaces == "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    for char in spaces:
        html = f"<p>a{char}{char}b{char}</p><p>{char}c</p><pre>d{char}\ne</pre>"
        assert html_to_text(html) == reference.html_to_text(html)
