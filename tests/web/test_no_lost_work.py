"""No lost work: one broken part keeps the others' previews, irreversible actions ask first."""

from __future__ import annotations

import pytest
from flask import Flask

from hcs.infrastructure.db import transaction
from templates_store import versioning
from tests.support.web import Person

VARIABLES = [{"name": "order_id", "type": "string", "required": True}]


@pytest.fixture(scope="module")
def ana(app: Flask) -> Person:
    return Person(app, "ana@example.com")


def _two_channels(app: Flask, key: str) -> int:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key=key, name=key, category="transactional", channels=["email", "sms"]
        )
        content = {"variables": VARIABLES, "sample_data": {"order_id": "A-9"}}
        return versioning.create_draft(
            session, key, author="ana@example.com", content=content
        ).number


def test_a_syntax_error_in_one_part_leaves_the_other_channels_preview_and_is_said_once(
    app: Flask, ana: Person
) -> None:
    number = _two_channels(app, "one-broken")
    form = {
        "parts.sms.en.body": "Order {{ order_id ",
        "parts.email.en.subject": "Order {{ order_id }}",
        "parts.email.en.html": "<p>Order {{ order_id }} shipped</p>",
        "variables": '[{"name": "order_id", "type": "string", "required": true}]',
        "sample_data": '{"order_id": "A-9"}',
    }
    shown = ana.post(f"/templates/one-broken/versions/{number}/preview", form).text
    assert 'id="preview-errors"' not in shown  # no alert over every channel
    assert 'id="preview-email-en"' in shown and "[DRAFT] Order A-9" in shown
    problem = shown.split('id="preview-sms-en-problem">', 1)[1].split("</p>", 1)[0]
    assert problem.startswith("This part cannot render (body): Line 1:")
    assert "sms.body.en" not in problem and "parts." not in problem  # no internal names
    preview_only = shown.split("hx-swap-oob", 1)[0]
    assert preview_only.count("Line 1:") == 1  # said once in the preview


def test_retiring_needs_the_templates_key_typed_and_the_button_asks_first(
    app: Flask, ana: Person
) -> None:
    lee = Person(app, "lee@example.com")
    _two_channels(app, "to-confirm")
    page = lee.get("/templates/to-confirm").text
    retire = page.split('id="retire"', 1)[1].split(">", 1)[0]
    assert "data-confirm=" in retire and 'name="confirm"' in page
    # One click (or a forged form without the key typed) retires nothing.
    for form in ({}, {"confirm": "another-key"}):
        refused = lee.post("/templates/to-confirm/retire", form)
        assert refused.status_code == 303
    page = lee.get("/templates/to-confirm").text
    assert "Nothing was retired" in page and "(retired)" not in page
    assert lee.post("/templates/to-confirm/retire", {"confirm": "to-confirm"}).status_code == 302
    assert "(retired)" in lee.get("/templates/to-confirm").text


def test_the_review_queue_leaves_out_what_the_person_may_not_decide_and_rejections_reach_the_author(
    app: Flask, ana: Person
) -> None:
    from hcs.governance import authoring

    with transaction(app.extensions["hcs"].sessions) as session:
        for key, author in (("by-max", "max@example.com"), ("by-ana", "ana@example.com")):
            versioning.create_template(
                session, key=key, name=key, category="transactional", channels=["sms"]
            )
            body = {
                "parts": {"sms": {"en": {"body": "Order {{ order_id }}."}}},
                "variables": VARIABLES,
                "sample_data": {"order_id": "A-1"},
            }
            versioning.create_draft(session, key, author=author, content=body)
            authoring.submit(session, "template", key, 1, actor=author)
    max_, lee = Person(app, "max@example.com"), Person(app, "lee@example.com")
    queue = max_.get("/").text.split('id="my-reviews"', 1)[1].split("</ul>", 1)[0]
    assert "by-ana" in queue and "by-max" not in queue  # never his own
    assert "by-max" in lee.get("/").text.split('id="my-reviews"', 1)[1].split("</ul>", 1)[0]
    form = {"comment": "The tone is wrong for a receipt."}
    assert lee.post("/templates/by-ana/versions/1/reject", form).status_code in (302, 303)
    home = ana.get("/").text
    rejected = home.split('id="my-rejections"', 1)[1].split("</ul>", 1)[0]
    assert "by-ana" in rejected and "The tone is wrong for a receipt." in rejected
