"""Blocks and themes have closure hashes too, and what was approved is kept apart from the row."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import select, update

from hcs.audit import AuditEntry
from hcs.governance.models import Approval
from hcs.infrastructure import migrate
from hcs.infrastructure.db import transaction
from templates_store.closure import closure_hash, component_hash, resolve_closure
from templates_store.lookup import get_block_version, get_theme_version, get_version
from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion
from tests.support.flows import FOOTER, dispatch, published_component, receipt_template, status
from tests.support.world import World

SEND = {
    "template": "receipt",
    "channel": "sms",
    "to": {"phone": "+447400123456"},
    "data": {"order_id": "A-7"},
}


def _sessions(world: World) -> Any:
    return world.app.extensions["hcs"].sessions


def _send(world: World) -> str:
    accepted = world.as_("system").post("/messages", SEND)
    assert accepted.status_code == 202, accepted.get_json()
    return str(accepted.get_json()["id"])


def test_a_submitted_block_and_theme_carry_the_hash_of_exactly_their_content(world: World) -> None:
    published_component(world, "block", "footer", {"content": FOOTER})
    published_component(world, "theme", "default", {"settings": {"company_name": "Northwind"}})
    lee = world.as_("lee@example.com")
    block = lee.get("/blocks/footer/versions/1").get_json()
    theme = lee.get("/themes/default/versions/1").get_json()
    with transaction(_sessions(world)) as session:
        assert block["closure_hash"] == component_hash(get_block_version(session, "footer", 1))
        assert theme["closure_hash"] == component_hash(get_theme_version(session, "default", 1))
    assert block["approvals"][0]["closure_hash"] == block["closure_hash"]


def test_a_block_approval_for_another_hash_is_a_conflict(world: World) -> None:
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    ana.post("/blocks", {"key": "footer", "name": "Footer"})
    ana.post("/blocks/footer/versions", {"content": FOOTER})
    shown = ana.post("/blocks/footer/versions/1/submit").get_json()["closure_hash"]
    stale = lee.post("/blocks/footer/versions/1/approve", {"closure_hash": "sha256:" + "0" * 64})
    assert stale.status_code == 409 and "closure hash" in stale.get_json()["message"]
    assert lee.get("/blocks/footer/versions/1").get_json()["approvals"] == []
    fine = lee.post("/blocks/footer/versions/1/approve", {"closure_hash": shown})
    assert fine.status_code == 200 and fine.get_json()["status"] == "approved"


def test_a_theme_changed_in_the_database_after_submission_cannot_be_approved(
    world: World,
) -> None:
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    ana.post("/themes", {"key": "brand", "name": "Brand"})
    ana.post("/themes/brand/versions", {"settings": {"company_name": "Northwind"}})
    shown = ana.post("/themes/brand/versions/1/submit").get_json()["closure_hash"]
    with transaction(_sessions(world)) as session:
        version_id = get_theme_version(session, "brand", 1).id
        session.execute(
            update(ThemeVersion)
            .where(ThemeVersion.id == version_id)
            .values(settings={"company_name": "Evil Corp"})
        )
    answer = lee.post("/themes/brand/versions/1/approve", {"closure_hash": shown})
    assert answer.status_code == 409 and "no longer matches" in answer.get_json()["message"]
    page = world.as_("lee@example.com").get("/themes/brand/versions/1").get_json()
    assert page["status"] == "in_review"


def test_a_version_rewritten_in_the_database_with_its_stored_hash_recomputed_is_not_sent(
    world: World,
) -> None:
    receipt_template(world)
    message_id = _send(world)
    with transaction(_sessions(world)) as session:
        version = get_version(session, "receipt", 1)
        version_id = version.id
        with session.no_autoflush:  # the guard refuses the change: the attacker writes raw SQL
            version.parts = {"sms": {"en": {"body": "Pay now at evil.example {{ order_id }}"}}}
            forged = closure_hash(version, resolve_closure(session, version))
        session.expunge(version)
        session.execute(
            update(TemplateVersion)
            .where(TemplateVersion.id == version_id)
            .values(
                parts={"sms": {"en": {"body": "Pay now at evil.example {{ order_id }}"}}},
                closure_hash=forged,
            )
        )
    dispatch(world)
    shown = status(world, message_id)
    assert shown["status"] == "failed" and shown["reason"] == "version_tampered"
    assert "evil.example" not in _sent_sms(world)


def test_a_version_rewritten_with_its_approval_rows_too_is_caught_by_the_sealed_audit_entry(
    world: World,
) -> None:
    receipt_template(world)
    message_id = _send(world)
    evil = {"sms": {"en": {"body": "Pay now at evil.example {{ order_id }}"}}}
    with transaction(_sessions(world)) as session:
        version = get_version(session, "receipt", 1)
        version_id = version.id
        with session.no_autoflush:
            version.parts = evil
            forged = closure_hash(version, resolve_closure(session, version))
        session.expunge(version)
        session.execute(
            update(TemplateVersion)
            .where(TemplateVersion.id == version_id)
            .values(parts=evil, closure_hash=forged)
        )
        session.execute(
            update(Approval)
            .where(Approval.subject_type == "template", Approval.subject_id == version_id)
            .values(closure_hash=forged)
        )
    dispatch(world)
    shown = status(world, message_id)
    assert shown["status"] == "failed" and shown["reason"] == "version_tampered"
    assert "evil.example" not in _sent_sms(world)


def test_a_pinned_block_rewritten_with_every_stored_hash_recomputed_is_not_sent(
    world: World,
) -> None:
    receipt_template(world)
    message_id = _send(world)
    evil = {"text": {"en": "Pay at evil.example"}, "html": {"en": "<p>Pay at evil.example</p>"}}
    with transaction(_sessions(world)) as session:
        block = get_block_version(session, "footer", 1)
        version = get_version(session, "receipt", 1)
        block_id, version_id = block.id, version.id
        with session.no_autoflush:
            block.content = evil
            forged_block = component_hash(block)
            forged_template = closure_hash(version, resolve_closure(session, version))
        session.expunge_all()
        session.execute(
            update(BlockVersion)
            .where(BlockVersion.id == block_id)
            .values(content=evil, closure_hash=forged_block)
        )
        session.execute(
            update(TemplateVersion)
            .where(TemplateVersion.id == version_id)
            .values(closure_hash=forged_template)
        )
    dispatch(world)
    shown = status(world, message_id)
    assert shown["status"] == "failed" and shown["reason"] == "version_tampered"
    assert "evil.example" not in _sent_sms(world)


def test_a_theme_rewritten_in_the_database_is_not_sent(world: World) -> None:
    receipt_template(world)
    message_id = _send(world)
    with transaction(_sessions(world)) as session:
        theme_id = get_theme_version(session, "default", 1).id
        session.execute(
            update(ThemeVersion)
            .where(ThemeVersion.id == theme_id)
            .values(settings={"company_name": "Evil Corp"})
        )
    dispatch(world)
    assert status(world, message_id)["reason"] == "version_tampered"


def test_each_approval_records_the_hash_it_decided_in_its_row_and_its_audit_entry(
    world: World,
) -> None:
    receipt_template(world)
    shown = world.as_("lee@example.com").get("/templates/receipt/versions/1").get_json()
    with transaction(_sessions(world)) as session:
        decision = session.scalars(
            select(Approval).where(Approval.subject_type == "template")
        ).one()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "template.approve")
        ).one()
    assert decision.closure_hash == shown["closure_hash"]
    assert entry.after is not None and entry.after["closure_hash"] == shown["closure_hash"]
    assert shown["approvals"][0]["closure_hash"] == shown["closure_hash"]


def test_an_untouched_published_version_with_a_block_and_theme_is_sent(world: World) -> None:
    receipt_template(world)
    message_id = _send(world)
    dispatch(world)
    assert status(world, message_id)["status"] in ("sent", "delivered")
    assert "Order A-7 is ready. Northwind Ltd" in _sent_sms(world)


def test_upgrading_hashes_existing_blocks_and_themes_and_what_was_approved(world: World) -> None:
    receipt_template(world)
    with transaction(_sessions(world)) as session:
        before = {
            "block": get_block_version(session, "footer", 1).closure_hash,
            "theme": get_theme_version(session, "default", 1).closure_hash,
        }
    engine = world.app.extensions["hcs"].engine
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    migrate.downgrade(url, _before_component_hashes(url))
    migrate.upgrade(url)
    with transaction(_sessions(world)) as session:
        assert get_block_version(session, "footer", 1).closure_hash == before["block"]
        assert get_theme_version(session, "default", 1).closure_hash == before["theme"]
        recorded = session.scalars(select(Approval.closure_hash)).all()
        assert recorded and None not in recorded
    message_id = _send(world)
    dispatch(world)
    assert status(world, message_id)["status"] in ("sent", "delivered")


def _before_component_hashes(url: str) -> str:
    """The revision before the one that added these hashes (found by what it says it does)."""
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    ours = next(
        r for r in script.walk_revisions() if (r.doc or "").startswith("closure hashes for block")
    )
    assert isinstance(ours.down_revision, str)
    return ours.down_revision


def _sent_sms(world: World) -> str:
    path = world.app.extensions["hcs"].settings.outbox_dir / "sms.jsonl"
    return path.read_text() if path.exists() else ""


def test_an_approved_version_changed_in_the_database_cannot_be_published(world: World) -> None:
    published_component(world, "block", "footer", {"content": FOOTER})
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    body = {"key": "late", "name": "Late", "category": "transactional", "channels": ["sms"]}
    assert ana.post("/templates", body).status_code == 201
    draft = {"parts": {"sms": {"en": {"body": "Hello. {{ block('footer') }}"}}}}
    assert ana.post("/templates/late/versions", draft).status_code == 201
    assert ana.post("/templates/late/versions/1/submit").status_code == 200
    assert lee.post("/templates/late/versions/1/approve").status_code == 200
    evil = {"sms": {"en": {"body": "Pay at evil.example {{ block('footer') }}"}}}
    with transaction(_sessions(world)) as session:
        version = get_version(session, "late", 1)
        version_id = version.id
        with session.no_autoflush:
            version.parts = evil
            forged = closure_hash(version, resolve_closure(session, version))
        session.expunge(version)
        session.execute(
            update(TemplateVersion)
            .where(TemplateVersion.id == version_id)
            .values(parts=evil, closure_hash=forged)
        )
    answer = lee.post("/templates/late/versions/1/publish")
    assert answer.status_code == 409 and "reviewers approved" in answer.get_json()["message"]
    assert lee.get("/templates/late").get_json()["published_version"] is None
