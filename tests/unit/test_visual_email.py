"""The visual editor's block document: checked with errors naming the block, compiled to bytes
that never change for the same document, and never a way to inject template source."""

from __future__ import annotations

import copy
import json
from html import unescape
from typing import Any

import pytest

from templates_store.errors import ValidationFailed
from templates_store.rendering import BlockSource, render
from templates_store.visual_document import clean_document
from templates_store.visual_email import compile_email

BRAND = {"colors": {"primary": "#112233", "text": "#000000"}, "fonts": {"body": "DejaVu Sans"}}
FOOTER = BlockSource("footer", html="<p>Footer {{ brand.colors.primary }}</p>", text="-- footer")


def run(text: str, **extra: Any) -> dict[str, Any]:
    return {"text": text, **extra}


def paragraph(*runs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "text": list(runs)}


def document(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "blocks": list(blocks)}


EVERY_KIND = document(
    {"type": "heading", "level": 2, "text": [run("Hello "), {"var": "first_name"}]},
    paragraph(
        run("Bold", bold=True), run(" and "), run("italic", italic=True, link="https://a.example/x")
    ),
    {"type": "button", "label": [run("Track it")], "url_var": "tracking_url"},
    {"type": "image", "src": "https://img.example/logo.png", "alt": "Our logo", "width": 120},
    {"type": "divider"},
    {"type": "spacer", "height": 12},
    {
        "type": "columns",
        "left": [paragraph(run("Left"))],
        "right": [{"type": "button", "label": [run("Shop")], "url": "https://shop.example/"}],
    },
    {"type": "list", "ordered": True, "items": [[run("one")], [{"var": "second"}]]},
    {"type": "content", "key": "footer"},
    {
        "type": "if",
        "variable": "is_member",
        "blocks": [paragraph(run("Member"))],
        "otherwise": [paragraph(run("Join us"))],
    },
    {
        "type": "repeat",
        "variable": "items",
        "as": "item",
        "blocks": [
            paragraph({"var": "item.name"}, run(": "), {"var": "item.price", "filter": "number"})
        ],
    },
)
DATA = {
    "first_name": "Ana",
    "tracking_url": "https://track.example/1",
    "second": "two",
    "is_member": False,
    "items": [{"name": "Mug", "price": 1234.5}],
}


def render_html(
    doc: dict[str, Any], data: dict[str, Any], brand: dict[str, Any] | None = None
) -> str:
    source = compile_email(clean_document(doc), locale="en")["html"]
    return render(
        source,
        part="email.html.en",
        html=True,
        data=data,
        locale="en",
        brand=BRAND if brand is None else brand,
        blocks={"footer": FOOTER},
    )


def render_text(doc: dict[str, Any], data: dict[str, Any]) -> str:
    source = compile_email(clean_document(doc), locale="en")["text"]
    return render(
        source,
        part="email.text.en",
        html=False,
        data=data,
        locale="en",
        brand=BRAND,
        blocks={"footer": FOOTER},
    )


def errors_of(doc: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        clean_document(doc)
    return caught.value.errors


def test_the_same_document_always_compiles_to_the_same_bytes() -> None:
    first = compile_email(clean_document(EVERY_KIND), locale="en")
    shuffled = json.loads(json.dumps(EVERY_KIND, sort_keys=True))  # same data, other key order
    again = compile_email(clean_document(shuffled), locale="en")
    assert first == again
    assert compile_email(clean_document(copy.deepcopy(EVERY_KIND)), locale="en") == first


def test_every_kind_of_block_renders_with_the_brand_and_the_data() -> None:
    html = render_html(EVERY_KIND, DATA)
    assert "Hello Ana" in html and "#112233" in html and "DejaVu Sans" in html
    assert 'href="https://track.example/1"' in html and "Track it" in html
    assert 'alt="Our logo"' in html and 'width="120"' in html
    assert "<ol" in html and "two" in html and "Footer #112233" in html
    assert "Join us" in html and "Member<" not in html
    assert "Mug: 1,234.5" in html
    assert 'class="hcs-col"' in html and "<strong>Bold</strong>" in html


def test_the_layout_is_tables_with_inline_styles_and_no_stylesheet_links() -> None:
    html = compile_email(clean_document(EVERY_KIND), locale="en")["html"]
    assert html.count('role="presentation"') >= 4
    assert (
        "<link" not in html
        and "<script" not in html
        and 'class="' not in html.replace('class="hcs-col"', "")
    )


def test_a_theme_without_colours_or_fonts_still_renders() -> None:
    without_footer = document(*[b for b in EVERY_KIND["blocks"] if b["type"] != "content"])
    html = render_html(without_footer, DATA, brand={})
    assert "#0B5FFF" in html


def test_the_text_part_reads_well() -> None:
    text = render_text(EVERY_KIND, {**DATA, "is_member": True})
    assert "Hello Ana" in text and "Track it: https://track.example/1" in text
    assert "italic (https://a.example/x)" in text and "1. one" in text and "2. two" in text
    assert "Member" in text and "Join us" not in text and "-- footer" in text


@pytest.mark.parametrize(
    "typed",
    [
        "{{ brand.__class__ }}",
        "{% for x in range(10) %}x{% endfor %}",
        "{# hidden #}",
        "}}{{ first_name }}",
        "<script>alert(1)</script>",
        "{{ '{' }}",
    ],
)
def test_typed_text_is_text_never_template_source(typed: str) -> None:
    doc = document(
        paragraph(run(typed)),
        {"type": "heading", "text": [run(typed)]},
        {"type": "button", "label": [run(typed)], "url": "https://x.example/"},
    )
    html = render_html(doc, {})
    text = render_text(doc, {})
    assert text.count(typed) == 3
    assert unescape(html).count(typed) == 3 and "<script>" not in html


def test_alt_text_and_link_addresses_are_escaped() -> None:
    doc = document(
        {
            "type": "image",
            "src": "https://a.example/i.png?a=1&b=2",
            "alt": '"><img src=x onerror=alert(1)> {{ x }}',
        }
    )
    html = render_html(doc, {})
    assert "<img src=x" not in html and "&#123;&#123; x &#125;&#125;" in html
    assert "a=1&amp;b=2" in html


@pytest.mark.parametrize(
    ("doc", "where", "says"),
    [
        (document({"type": "carousel"}), "blocks.blocks.0.type", "must be one of"),
        (
            document(paragraph({"var": "first_name }}{{ brand"})),
            "blocks.blocks.0.text.0.var",
            "variable name",
        ),
        (document(paragraph({"var": "__class__"})), "blocks.blocks.0.text.0.var", "variable name"),
        (document(paragraph({"var": "range"})), "blocks.blocks.0.text.0.var", "reserved"),
        (
            document(paragraph(run("a", link="javascript:alert(1)"))),
            "blocks.blocks.0.text.0.link",
            "http",
        ),
        (document({"type": "button", "label": [run("Go")]}), "blocks.blocks.0.url", "required"),
        (
            document({"type": "image", "src": "http://a.example/i.png", "alt": "x"}),
            "blocks.blocks.0.src",
            "https",
        ),
        (
            document({"type": "image", "src": "https://a.example/i.png", "alt": "  "}),
            "blocks.blocks.0.alt",
            "describe",
        ),
        (
            document({"type": "content", "key": "../etc"}),
            "blocks.blocks.0.key",
            "content block key",
        ),
        (
            document({"type": "if", "variable": "a or b", "blocks": []}),
            "blocks.blocks.0.variable",
            "variable name",
        ),
        (
            document({"type": "repeat", "variable": "items", "as": "loop", "blocks": []}),
            "blocks.blocks.0.as",
            "reserved",
        ),
        (
            document(
                {"type": "columns", "left": [{"type": "spacer", "height": 9999}], "right": []}
            ),
            "blocks.blocks.0.left.0.height",
            "less than",
        ),
        (document({**paragraph(run("x")), "script": "1"}), "blocks.blocks.0.script", "Unknown"),
        (
            document(paragraph({"var": "total", "filter": "safe"})),
            "blocks.blocks.0.text.0.filter",
            "one of",
        ),
    ],
)
def test_a_bad_block_is_refused_naming_its_path(doc: dict[str, Any], where: str, says: str) -> None:
    errors = errors_of(doc)
    assert where in errors, errors
    assert says.lower() in " ".join(errors[where]).lower()


def test_deep_nesting_and_huge_documents_are_refused() -> None:
    inner: dict[str, Any] = paragraph(run("x"))
    for _ in range(6):
        inner = {"type": "if", "variable": "a", "blocks": [inner]}
    assert "nests sections" in " ".join(errors_of(document(inner))["blocks"])
    many = document(*[{"type": "divider"}] * 301)
    assert errors_of(many)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    assert "blocks" in errors_of([1, 2])
    assert "blocks.version" in errors_of({"version": 2, "blocks": []})
