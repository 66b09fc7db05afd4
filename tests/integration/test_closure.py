"""The closure hash pins blocks and theme; same closure, same hash; any change, a new hash."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from templates_store import blocks, versioning
from templates_store.closure import component_hash, is_component_intact, verify_closure
from templates_store.composing import render_channel
from templates_store.lookup import get_block_version
from templates_store.models import BlockVersion
from tests.support.factories import ORDER_PARTS, ORDER_SAMPLE, make_block, make_draft, make_template

FOOTER_PARTS = {
    **ORDER_PARTS,
    "email": {
        "en": {
            "subject": "Your order {{ order_id }}",
            "html": "<p>Order {{ order_id }}</p>{{ block('footer') }}",
            "text": "Order {{ order_id }}\n{{ block('footer') }}",
        }
    },
}


def _setup(session: Session) -> None:
    blocks.create_theme(session, key="default", name="Northwind")
    blocks.create_theme_draft(
        session,
        "default",
        author="bo@example.com",
        settings={"company_name": "Northwind Goods", "colors": {"primary": "#0B5FFF"}},
    )
    make_block(session)
    make_template(session)


def _submit(session: Session, **content: object) -> str:
    draft = make_draft(session, **content)
    version = versioning.submit(session, "order-confirmation", draft.number)
    assert version.closure_hash is not None
    return version.closure_hash


def test_two_identical_closures_hash_the_same(session: Session) -> None:
    _setup(session)
    assert _submit(session, parts=FOOTER_PARTS) == _submit(session, parts=FOOTER_PARTS)


def test_a_change_to_a_part_changes_the_hash(session: Session) -> None:
    _setup(session)
    changed = {**FOOTER_PARTS, "sms": {"en": {"body": "Order {{ order_id }} is confirmed!"}}}
    assert _submit(session, parts=FOOTER_PARTS) != _submit(session, parts=changed)


def test_a_change_to_the_variable_schema_changes_the_hash(session: Session) -> None:
    _setup(session)
    first = _submit(session, parts=FOOTER_PARTS)
    variables = [
        {"name": "order_id", "type": "string", "required": True, "data_class": "none"},
        {"name": "first_name", "type": "string", "required": False, "data_class": "personal"},
    ]
    assert first != _submit(session, parts=FOOTER_PARTS, variables=variables)


def test_a_new_block_version_changes_the_hash_of_later_versions_only(session: Session) -> None:
    _setup(session)
    first = _submit(session, parts=FOOTER_PARTS)
    blocks.submit_block(session, "footer", 1)
    blocks.create_block_draft(
        session,
        "footer",
        author="bo@example.com",
        content={"html": {"en": "<p>Northwind Goods Ltd</p>"}, "text": {"en": "-- Northwind"}},
    )
    second = _submit(session, parts=FOOTER_PARTS)
    assert first != second
    version_one = versioning.get_version(session, "order-confirmation", 1)
    assert version_one.closure["blocks"]["footer"]["number"] == 1
    assert verify_closure(session, version_one)


def test_a_new_theme_version_changes_the_hash(session: Session) -> None:
    _setup(session)
    first = _submit(session, parts=FOOTER_PARTS)
    blocks.create_theme_draft(
        session,
        "default",
        author="bo@example.com",
        settings={"company_name": "Northwind", "colors": {"primary": "#000"}},
    )
    assert first != _submit(session, parts=FOOTER_PARTS)


def test_a_submitted_version_renders_with_the_blocks_it_pinned(session: Session) -> None:
    _setup(session)
    _submit(session, parts=FOOTER_PARTS)
    blocks.submit_block(session, "footer", 1)
    blocks.create_block_draft(
        session,
        "footer",
        author="bo@example.com",
        content={"html": {"en": "<p>NEW FOOTER</p>"}, "text": {"en": "NEW"}},
    )
    version = versioning.get_version(session, "order-confirmation", 1)
    rendered = render_channel(session, version, "email", "en", ORDER_SAMPLE)
    assert "Northwind · Northwind Goods" in rendered.parts["html"]
    assert "NEW FOOTER" not in rendered.parts["html"]


def test_drafts_render_watermarked(session: Session) -> None:
    _setup(session)
    draft = make_draft(session, parts=FOOTER_PARTS)
    rendered = render_channel(session, draft, "sms", "en", ORDER_SAMPLE)
    assert rendered.is_preview
    assert rendered.parts["body"] == "[DRAFT] Order A-1001 is confirmed."
    html = render_channel(session, draft, "email", "en", ORDER_SAMPLE).parts["html"]
    assert "DRAFT PREVIEW" in html


def test_a_submitted_block_keeps_the_hash_of_its_content_and_another_content_has_another(
    session: Session,
) -> None:
    _setup(session)
    first = blocks.submit_block(session, "footer", 1)
    assert first.closure_hash == component_hash(first)
    blocks.create_block_draft(
        session, "footer", author="bo@example.com", content={"text": {"en": "-- Northwind Ltd"}}
    )
    second = blocks.submit_block(session, "footer", 2)
    assert second.closure_hash is not None and second.closure_hash != first.closure_hash
    assert is_component_intact(first) and is_component_intact(second)


def test_a_template_whose_pinned_block_lost_its_hash_no_longer_verifies(session: Session) -> None:
    _setup(session)
    blocks.submit_block(session, "footer", 1)
    _submit(session, parts=FOOTER_PARTS)
    version = versioning.get_version(session, "order-confirmation", 1)
    assert verify_closure(session, version)
    footer = get_block_version(session, "footer", 1)
    session.execute(
        update(BlockVersion).where(BlockVersion.id == footer.id).values(closure_hash=None)
    )
    session.expire(footer)
    assert not verify_closure(session, version)
