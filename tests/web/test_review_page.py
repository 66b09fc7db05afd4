"""The review page shows everything being approved, version 1 included."""

from __future__ import annotations

import html
import re

from sqlalchemy import update

from hcs.infrastructure.db import transaction
from templates_store.lookup import get_block_version
from templates_store.models import BlockVersion
from tests.support.flows import (
    FOOTER,
    PARTS,
    SLOT,
    ai_template,
    new_template,
    published,
    receipt_template,
)
from tests.support.web import Person
from tests.support.world import World

BASE = "/templates/order-confirmation/versions"
PATH = f"{BASE}/1"
EMAIL = {"email": PARTS["email"]}


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_first_version_shows_variables_slots_pins_hash_and_its_text(world: World) -> None:
    ai_template(world)
    shown = world.as_("ana@example.com").get("/templates/order-thanks/versions/1").get_json()
    page = Person(world.app, "bo@example.com").get("/templates/order-thanks/versions/1").text
    seen = " ".join(_text(page).split())
    assert "\\u003c" not in page and "\\r\\n" not in page
    assert "first_name string required personal" in seen
    assert "email email optional personal" in seen
    for value in (SLOT["instruction"], SLOT["fallback"], "friendly", "80", "fallback"):
        assert str(value) in seen
    assert "inputs: first_name" in seen
    assert "ai-disclosure version 1" in seen
    assert shown["closure_hash"] in seen
    assert "{{ opener }} Order {{ order_id }} is confirmed." in seen  # the source, as text


def test_the_review_page_renders_the_version_on_each_channel_with_its_sample_data(
    world: World,
) -> None:
    new_template(world)  # email and SMS, sample data order A-1001 for Ana
    page = Person(world.app, "lee@example.com").get(PATH).text
    previews = page[page.index('id="previews"') :]
    assert 'id="preview-sms-en"' in previews and 'id="preview-email-en"' in previews
    assert "Order A-1001 is confirmed." in previews  # rendered with the sample data
    assert "GSM-7 · 1 segment" in previews
    frame = re.search(r'<iframe sandbox title="email preview, en"[^>]*src="([^"]+)"', previews)
    assert frame, previews[:2000]
    shown = Person(world.app, "lee@example.com").get(html.unescape(frame[1]))
    assert "Hi Ana, order A-1001 is confirmed." in shown.text
    assert shown.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")


def test_the_review_page_highlights_inserted_and_deleted_words_against_the_published_one(
    world: World,
) -> None:
    published(world)
    ana = world.as_("ana@example.com")
    changed = {"sms": {"en": {"body": "Order {{ order_id }} is on its way."}}, **EMAIL}
    assert ana.post("/templates/order-confirmation/versions", {"parts": changed}).status_code == 201
    page = Person(world.app, "lee@example.com").get(f"{BASE}/2").text
    words = page[page.index('id="words"') :]
    assert "Order {{ order_id }} is <del>confirmed</del><ins>on its way</ins>." in words
    assert "Changes against version 1 (published)" in page
    api = ana.get(f"{BASE}/2/diff?against=1").get_json()
    body = next(p for p in api["parts"] if p["part"] == "sms.body.en")
    assert {"op": "insert", "text": "on its way"} in body["words"]


def test_a_page_a_person_reads_is_not_kept_by_the_browser_after_sign_out(world: World) -> None:
    new_template(world)
    page = Person(world.app, "lee@example.com").get(PATH)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_the_review_page_shows_each_pinned_block_and_theme_with_its_own_hash(world: World) -> None:
    receipt_template(world)
    block = world.as_("lee@example.com").get("/blocks/footer/versions/1").get_json()
    theme = world.as_("lee@example.com").get("/themes/default/versions/1").get_json()
    page = Person(world.app, "bo@example.com").get("/templates/receipt/versions/1").text
    pins = page[page.index('id="pins"') :]
    pins = pins[: pins.index("</ul>")]
    assert f"block footer version 1 · <code>{block['closure_hash']}</code>" in pins
    assert f"theme default version 1 · <code>{theme['closure_hash']}</code>" in pins


def test_a_block_changed_after_submission_is_refused_on_its_review_page(world: World) -> None:
    ana = world.as_("ana@example.com")
    ana.post("/blocks", {"key": "footer", "name": "Footer"})
    ana.post("/blocks/footer/versions", {"content": FOOTER})
    shown = ana.post("/blocks/footer/versions/1/submit").get_json()["closure_hash"]
    lee = Person(world.app, "lee@example.com")
    page = lee.get("/blocks/footer/versions/1").text
    assert f'<code id="closure-hash">{shown}</code>' in page
    assert f'name="closure_hash" value="{shown}"' in page  # what Approve posts
    with transaction(world.app.extensions["hcs"].sessions) as session:
        block_id = get_block_version(session, "footer", 1).id
        evil = {"text": {"en": "Pay at evil.example"}}
        session.execute(
            update(BlockVersion).where(BlockVersion.id == block_id).values(content=evil)
        )
    refused = lee.post("/blocks/footer/versions/1/approve", {"closure_hash": shown})
    assert refused.status_code == 409 and 'id="refusal"' in refused.text
    assert "no longer matches its closure hash" in refused.text
    assert (
        world.as_("lee@example.com").get("/blocks/footer/versions/1").get_json()["status"]
        == "in_review"
    )
