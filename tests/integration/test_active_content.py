"""Email HTML holding scripts, handlers, javascript: URLs, forms or objects is refused.

The check runs at submission, on the HTML rendered with the sample data.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hcs.governance import authoring
from hcs.governance.active_content import active_content
from templates_store.errors import ValidationFailed
from tests.support.factories import ORDER_PARTS, make_draft, make_template

WRAP = (
    '<html lang="en"><body><p>Hi {{{{ first_name }}}}, order {{{{ order_id }}}}.</p>{}'
    "</body></html>"
)
ACTIVE = {
    "script": ("<script>alert(1)</script>", "<script>"),
    "svg script": ("<svg><script>alert(1)</script></svg>", "<script>"),
    "event handler": ('<img src="https://x.example/a.png" alt="a" onerror="alert(1)">', "onerror"),
    "handler on body": ('<a href="https://x.example" onclick="steal()">x</a>', "onclick"),
    "javascript: link": ('<a href="javascript:alert(1)">x</a>', "javascript"),
    "encoded javascript:": ('<a href="jav&#x61;script&colon;alert(1)">x</a>', "javascript"),
    "spaced javascript:": ('<a href=" \tjavascript:alert(1)">x</a>', "javascript"),
    "form": ('<form action="https://x.example"><input name="pin"></form>', "<form>"),
    "object": ('<object data="https://x.example/x.swf"></object>', "<object>"),
    "embed": ('<embed src="https://x.example/x.swf">', "<embed>"),
    "iframe": ('<iframe src="https://x.example"></iframe>', "<iframe>"),
}
HARMLESS = (
    '<table role="presentation" width="100%" style="border:0"><tr><td bgcolor="#fff" '
    'align="center"><a href="https://shop.example/o?a=1&amp;b=2" target="_blank">Track</a> '
    '<a href="mailto:help@example.com">Mail us</a> <img src="https://x.example/logo.png" '
    'alt="Logo" width="40"></td></tr></table><style>p { color: #222 }</style>'
)


@pytest.mark.parametrize("html, named", ACTIVE.values(), ids=list(ACTIVE))
def test_active_content_is_found_and_named(html: str, named: str) -> None:
    found = active_content(WRAP.format(html))
    assert found and any(named in message for message in found), found


def test_ordinary_email_html_has_no_active_content() -> None:
    assert active_content(WRAP.format(HARMLESS)) == []


def test_a_version_with_a_script_or_a_handler_cannot_be_submitted(session: Session) -> None:
    make_template(session)
    html = WRAP.format('<script>alert(1)</script><a href="https://x.example" onclick="x()">x</a>')
    parts = {**ORDER_PARTS, "email": {"en": {"subject": "Order {{ order_id }}", "html": html}}}
    version = make_draft(session, parts=parts)
    with pytest.raises(ValidationFailed) as caught:
        authoring.submit(
            session, "template", "order-confirmation", version.number, actor="ana@example.com"
        )
    [messages] = caught.value.errors.values()
    assert list(caught.value.errors) == ["checks.active_content.email.html.en"]
    assert any("<script>" in m for m in messages) and any("onclick" in m for m in messages)
